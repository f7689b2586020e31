"""What the process designer's tools read through the unit of work: the data dictionary's lanes, each
instance's recorded inputs (for ``bpmn test`` and ``bpmn replay``) and the stored states step statistics
walk. Kept apart from ports.py, which holds the engine's own repositories.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol

from engine.domain.journal import Observation, RecordedInput
from engine.domain.lanes import Completion, LaneRule


class Lanes(Protocol):
    """The data dictionary's lanes (``lanes.csv``; engine/domain/lanes.py) and an instance's approvals."""

    def rules(self) -> list[LaneRule]:
        """The imported lane rules in order; empty when the dictionary has none (the built-ins apply)."""

    def completions(self, instance_id: int, document: str) -> list[Completion]:
        """The instance's completed user tasks in completion order, with their audited decisions."""


class Journal(Protocol):
    """Each instance's inputs in order (``instance_input``), and what an instance did, for test and replay."""

    def append(self, instance_id: int, *, kind: str, element: str, actor: str, payload: dict[str, Any],
               at: datetime) -> None: ...

    def inputs(self, instance_id: int) -> list[RecordedInput]: ...

    def finished_instances(self, since: datetime | None = None) -> list[dict[str, Any]]: ...

    def observe(self, instance_id: int) -> Observation: ...


class StepQueries(Protocol):
    """What step statistics read (implemented by engine.persistence.step_queries)."""

    def instance_states(self, version_id: int, process_id: str | None = None
                        ) -> Iterator[tuple[int, str, str, str]]:
        """(id, process id, status, state JSON) of the version's instances, streamed."""

    def user_task_times(self, version_id: int) -> dict[str, tuple[datetime, datetime | None]]:
        """Task guid -> (opened, completed or None) of the version's user tasks."""
