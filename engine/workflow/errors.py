"""Errors the workflow layer raises, free of SpiffWorkflow types."""

from __future__ import annotations

from engine.domain.errors import BudgetflowError


class BundleInvalid(BudgetflowError):
    """A folder of diagrams failed to parse or check; ``problems`` are ``file:element-id: message`` lines."""

    code = "BPMN_INVALID"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the diagrams:\n" + "\n".join(problems))
        self.problems = problems


class StepFailed(BudgetflowError):
    """The engine stopped on an error the diagram does not model: nothing of the step is kept.

    ``element`` is the BPMN id of the task that failed (``-`` when the saved state itself could
    not be loaded or stored); ``reason`` says what went wrong in one line.
    """

    code = "STEP_FAILED"

    def __init__(self, element: str, reason: str) -> None:
        super().__init__(f"{element}: {reason}", element=element)
        self.element, self.reason = element, reason

    @classmethod
    def of(cls, element: str, exc: BaseException) -> StepFailed:
        text = " ".join(str(exc).split())[:500] or type(exc).__name__
        if not isinstance(exc, BudgetflowError) and type(exc).__name__ not in text:
            text = f"{type(exc).__name__}: {text}"
        return cls(element, text)


class TaskNotReady(BudgetflowError):
    code = "TASK_NOT_READY"
