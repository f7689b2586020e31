"""Errors the workflow layer raises, free of SpiffWorkflow types."""

from __future__ import annotations

from engine.domain.errors import BudgetflowError


class BundleInvalid(BudgetflowError):
    """A folder of diagrams failed to parse or check; ``problems`` are ``file:element-id: message`` lines."""

    code = "BPMN_INVALID"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the diagrams:\n" + "\n".join(problems))
        self.problems = problems


class WorkflowFailed(BudgetflowError):
    """The engine stopped on an error the diagram does not model (an incident for an admin)."""

    code = "WORKFLOW_ERROR"


class TaskNotReady(BudgetflowError):
    code = "TASK_NOT_READY"
