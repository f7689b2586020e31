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
    not be loaded or stored); ``file`` the diagram file holding it, when known; ``reason`` says what went
    wrong in one line, naming the expression that failed when there is one
    (``condition "amount_value > limit" failed: NameError: name 'limit' is not defined``).
    """

    code = "STEP_FAILED"

    def __init__(self, element: str, reason: str, *, file: str | None = None) -> None:
        where = f"{file}:{element}" if file else element
        super().__init__(f"{where}: {reason}", element=element)
        self.element, self.reason, self.file, self.where = element, reason, file, where

    @classmethod
    def of(cls, element: str, exc: BaseException) -> StepFailed:
        text = " ".join(str(exc).split())[:500] or type(exc).__name__
        if not isinstance(exc, BudgetflowError) and type(exc).__name__ not in text:
            text = f"{type(exc).__name__}: {text}"
        return cls(element, text)


class TaskNotReady(BudgetflowError):
    code = "TASK_NOT_READY"


def outside_the_instance(exc: BaseException) -> bool:
    """Whether ``exc`` came from the database's operation, not from the instance: a lost connection, a lock
    held too long, an I/O error (PEP 249's OperationalError, which SQLAlchemy, sqlite3 and psycopg all raise
    or wrap). Such an error stops the step and rolls it back, but it is no reason to put the instance into
    incident: whoever ran the step (the worker) waits for the database and runs it again.

    Recognised by class name so that this layer needs no database library.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if any(cls.__name__ == "OperationalError" for cls in type(current).__mro__):
            return True
        current = current.__cause__ or current.__context__
    return False
