"""What step statistics read (``uow.steps``): the stored states of a version's instances and their user tasks' times.

States are streamed (one row at a time, never the whole version in memory): a version may hold a hundred
thousand instances of some tens of kilobytes each.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, select

from engine.persistence.workflow_tables import HumanTask, ProcessInstance

_inst = ProcessInstance.__table__
_task = HumanTask.__table__


class SqlStepQueries:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def instance_states(self, version_id: int, process_id: str | None = None
                        ) -> Iterator[tuple[int, str, str, str]]:
        """(id, process id, status, state JSON) of every instance on ``version_id`` (of ``process_id`` if given)."""
        stmt = (select(_inst.c.id, _inst.c.process_id, _inst.c.status, _inst.c.state)
                .where(_inst.c.model_version_id == version_id).order_by(_inst.c.id))
        if process_id is not None:
            stmt = stmt.where(_inst.c.process_id == process_id)
        for row in self.conn.execution_options(stream_results=True, yield_per=500).execute(stmt):
            yield int(row[0]), str(row[1]), str(row[2]), str(row[3] or "")

    def user_task_times(self, version_id: int) -> dict[str, tuple[datetime, datetime | None]]:
        """Task guid -> (opened, completed or None) of the user tasks of ``version_id``'s instances."""
        stmt = (select(_task.c.task_guid, _task.c.created_at, _task.c.completed_at)
                .join(_inst, _inst.c.id == _task.c.instance_id).where(_inst.c.model_version_id == version_id))
        return {str(guid): (opened, done) for guid, opened, done in self.conn.execute(stmt)}
