"""Outbox jobs: claim with a lease, record the outcome, raise incidents."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, or_, select, update

from engine.persistence.deferred import write
from engine.persistence.prepared import Prepared
from engine.persistence.types import utcnow
from engine.persistence.workflow_tables import OutboxJob

_job = OutboxJob.__table__
_at = _job.c.updated_at.type

# The worker's per-job statements run as Prepared statements (see prepared.py). SKIP LOCKED lets
# several PostgreSQL workers claim disjoint batches; SQLite's write lock serialises claims anyway.
_DUE = Prepared(
    select(_job.c.id, _job.c.instance_id, _job.c.task_guid, _job.c.operator, _job.c.params,
           _job.c.idempotency_key, _job.c.attempts, case((_job.c.locked_until.is_(None), 0), else_=1))
    .where(_job.c.status == "pending", _job.c.next_attempt_at <= bindparam("now", type_=_at),
           or_(_job.c.locked_until.is_(None), _job.c.locked_until <= bindparam("now", type_=_at)))
    .order_by(_job.c.next_attempt_at, _job.c.id).limit(bindparam("limit")).with_for_update(skip_locked=True))
_LEASE = Prepared(update(_job).where(_job.c.id == bindparam("job_id")).values(
    locked_until=bindparam("until", type_=_at), attempts=bindparam("new_attempts"),
    updated_at=bindparam("now", type_=_at)))
_DONE = Prepared(update(_job).where(_job.c.id == bindparam("job_id")).values(
    status="done", result=bindparam("new_result"), locked_until=None, updated_at=bindparam("now", type_=_at)))


MAX_ERROR_CHARS = 500  # a stored error is one short line (see close and retry_later)


@dataclass(frozen=True)
class Job:
    id: int
    instance_id: int
    task_guid: str
    operator: str
    params: dict[str, Any]
    key: str
    attempts: int


@dataclass(frozen=True)
class Claim:
    """What one claim found: ``jobs`` leased to run; ``abandoned`` due again after their last attempt's
    lease ran out, not leased: the caller closes them as incidents (see claim_due)."""

    jobs: list[Job]
    abandoned: list[Job]


class SqlOutboxRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim_due(self, now: datetime, *, lease: timedelta, limit: int = 1, max_attempts: int | None = None
                  ) -> Claim:
        """Take up to ``limit`` due jobs and lease them, counting an attempt for each.

        An expired lease means the worker running the job died (or lost the database) before recording
        an outcome, so the job is due again. If that lease was already its ``max_attempts``-th, the job
        is not leased again (it may be what kills the worker) but returned in ``abandoned``.
        """
        rows = _DUE.all(self.conn, {"now": now, "limit": limit})
        jobs: list[Job] = []
        abandoned: list[Job] = []
        for job_id, instance_id, guid, operator, params, key, attempts, was_leased in rows:
            dead = bool(was_leased) and max_attempts is not None and attempts >= max_attempts
            job = Job(job_id, instance_id, guid, operator, json.loads(params), key, attempts if dead else attempts + 1)
            (abandoned if dead else jobs).append(job)
        if jobs:  # nothing reads the lease back in this transaction: on PostgreSQL it goes with the commit
            write(self.conn, _LEASE, [{"job_id": j.id, "until": now + lease, "new_attempts": j.attempts, "now": now}
                                      for j in jobs], many=True)
        return Claim(jobs, abandoned)

    def give_back(self, job_id: int, attempts: int, *, keep_attempt: bool = False) -> bool:
        """Undo the lease and (unless ``keep_attempt``) the attempt of a job its worker could not finish because
        the database went away, unless the job moved on meanwhile (finished, or leased again by another worker)."""
        done = self.conn.execute(update(_job).where(
            _job.c.id == job_id, _job.c.status == "pending", _job.c.attempts == attempts,
            _job.c.locked_until.is_not(None)).values(attempts=attempts if keep_attempt else attempts - 1,
                                                     locked_until=None, updated_at=utcnow()))
        return done.rowcount == 1

    def done(self, job_id: int, result: dict[str, Any]) -> None:
        """Held back on PostgreSQL: it goes with the next lease's read or the commit, not in a round trip of its own."""
        write(self.conn, _DONE, {"job_id": job_id, "new_result": json.dumps(result, default=str), "now": utcnow()})

    def retry_later(self, job_id: int, *, at: datetime, error: str) -> None:
        self.conn.execute(update(_job).where(_job.c.id == job_id).values(
            status="pending", next_attempt_at=at, locked_until=None, last_error=_one_line(error), updated_at=utcnow()))

    def close(self, job_id: int, *, status: str, error: str) -> None:
        """``failed`` (handed to the diagram as a BPMN error) or ``incident`` (needs an admin)."""
        self.conn.execute(update(_job).where(_job.c.id == job_id).values(
            status=status, locked_until=None, last_error=_one_line(error), updated_at=utcnow()))

    def retry_incident(self, job_id: int) -> bool:
        done = self.conn.execute(update(_job).where(_job.c.id == job_id, _job.c.status == "incident").values(
            status="pending", attempts=0, next_attempt_at=utcnow(), updated_at=utcnow()))
        return done.rowcount == 1

    def incidents(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(select(_job.c.id, _job.c.instance_id, _job.c.operator, _job.c.attempts,
                                        _job.c.last_error).where(_job.c.status == "incident").order_by(_job.c.id))
        return [dict(r._mapping) for r in rows]

    def has_job(self, instance_id: int, operator: str) -> bool:
        """Whether ``instance_id`` ever queued a job of ``operator`` (whatever became of it)."""
        found = self.conn.execute(select(_job.c.id).where(_job.c.instance_id == instance_id,
                                                          _job.c.operator == operator).limit(1)).first()
        return found is not None

    def cancel_pending(self, instance_id: int) -> int:
        """Jobs of a cancelled instance that have not run yet will never run; returns how many."""
        now = utcnow()
        done = self.conn.execute(update(_job).where(_job.c.instance_id == instance_id, _job.c.status == "pending",
                                                    or_(_job.c.locked_until.is_(None), _job.c.locked_until <= now))
                                 .values(status="cancelled", updated_at=now))
        return int(done.rowcount)

    def results_of(self, instance_id: int) -> list[tuple[str, dict[str, Any]]]:
        """(task guid, result) of the instance's finished jobs: what a retried step may hand back to its tasks."""
        rows = self.conn.execute(select(_job.c.task_guid, _job.c.result).where(
            _job.c.instance_id == instance_id, _job.c.status == "done", _job.c.result.is_not(None)).order_by(_job.c.id))
        return [(guid, json.loads(result)) for guid, result in rows]

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute(select(_job.c.status, func.count()).group_by(_job.c.status))
        return {status: int(n) for status, n in rows}


def _one_line(error: str) -> str:
    """Whitespace collapsed (a driver's multi-line text included) and cut: what ``incidents list`` shows."""
    text = " ".join(error.split())
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS - 1] + "…"
