"""Outbox jobs: claim with a lease, record the outcome, raise incidents."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, or_, select, update

from engine.persistence.types import utcnow
from engine.persistence.workflow_tables import OutboxJob

_job = OutboxJob.__table__


@dataclass(frozen=True)
class Job:
    id: int
    instance_id: int
    task_guid: str
    operator: str
    params: dict[str, Any]
    key: str
    attempts: int


class SqlOutboxRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim_due(self, now: datetime, *, lease: timedelta) -> Job | None:
        """Take one due job and lease it; an expired lease (a crashed worker) makes it due again."""
        stmt = (select(_job).where(_job.c.status == "pending", _job.c.next_attempt_at <= now,
                                   or_(_job.c.locked_until.is_(None), _job.c.locked_until <= now))
                .order_by(_job.c.next_attempt_at, _job.c.id).limit(1).with_for_update(skip_locked=True))
        row = self.conn.execute(stmt).first()
        if row is None:
            return None
        self.conn.execute(update(_job).where(_job.c.id == row.id).values(
            locked_until=now + lease, attempts=row.attempts + 1, updated_at=now))
        return Job(row.id, row.instance_id, row.task_guid, row.operator, json.loads(row.params),
                   row.idempotency_key, row.attempts + 1)

    def done(self, job_id: int, result: dict[str, Any]) -> None:
        self.conn.execute(update(_job).where(_job.c.id == job_id).values(
            status="done", result=json.dumps(result, default=str), locked_until=None, updated_at=utcnow()))

    def retry_later(self, job_id: int, *, at: datetime, error: str) -> None:
        self.conn.execute(update(_job).where(_job.c.id == job_id).values(
            status="pending", next_attempt_at=at, locked_until=None, last_error=error[:2000], updated_at=utcnow()))

    def close(self, job_id: int, *, status: str, error: str) -> None:
        """``failed`` (handed to the diagram as a BPMN error) or ``incident`` (needs an admin)."""
        self.conn.execute(update(_job).where(_job.c.id == job_id).values(
            status=status, locked_until=None, last_error=error[:2000], updated_at=utcnow()))

    def retry_incident(self, job_id: int) -> bool:
        done = self.conn.execute(update(_job).where(_job.c.id == job_id, _job.c.status == "incident").values(
            status="pending", attempts=0, next_attempt_at=utcnow(), updated_at=utcnow()))
        return done.rowcount == 1

    def incidents(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(select(_job.c.id, _job.c.instance_id, _job.c.operator, _job.c.attempts,
                                        _job.c.last_error).where(_job.c.status == "incident").order_by(_job.c.id))
        return [dict(r._mapping) for r in rows]

    def counts(self) -> dict[str, int]:

        rows = self.conn.execute(select(_job.c.status, func.count()).group_by(_job.c.status))
        return {status: int(n) for status, n in rows}
