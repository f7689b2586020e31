"""What the workflow asks of the rest of the engine, free of SpiffWorkflow types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class OperatorCall:
    operator: str  # e.g. "budget/Reserve"
    params: dict[str, Any]
    task_guid: str
    bpmn_id: str
    data: dict[str, Any] = field(repr=False)


class OperatorPort(Protocol):
    def call(self, call: OperatorCall) -> dict[str, Any] | None:
        """Run an operator: a dict result completes the task, None defers it (async, via the outbox).

        Raise connectors.base.ConnectorError with a published code for a failure the
        diagram may catch with a boundary error event.
        """
