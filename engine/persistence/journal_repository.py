"""The input journal (``uow.journal``): record each instance's inputs, read them back, and observe an instance
(the user tasks it opened, its reservations, the notifications of its diagram) for ``bpmn test`` and replay."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select

from engine.domain.journal import Observation, RecordedInput, ReservationFact
from engine.persistence.deferred import write
from engine.persistence.journal_tables import InstanceInput
from engine.persistence.prepared import Prepared
from engine.persistence.tables import BudgetLine, Reservation
from engine.persistence.workflow_tables import HumanTask, OutboxJob, ProcessInstance

_input = InstanceInput.__table__
_task = HumanTask.__table__
_inst = ProcessInstance.__table__
_res = Reservation.__table__
_line = BudgetLine.__table__
_job = OutboxJob.__table__

# One statement: the next seq is read by the insert itself (no round trip for a read first), so on PostgreSQL
# it can wait with the step's other writes (deferred.py).
_APPEND = Prepared(insert(_input).from_select(
    ["instance_id", "seq", "kind", "element", "actor", "payload", "at"],
    select(bindparam("instance_id", type_=_input.c.instance_id.type),
           func.coalesce(func.max(_input.c.seq), 0) + 1,
           bindparam("kind", type_=_input.c.kind.type), bindparam("element", type_=_input.c.element.type),
           bindparam("actor", type_=_input.c.actor.type), bindparam("payload", type_=_input.c.payload.type),
           bindparam("at", type_=_input.c.at.type))
    .where(_input.c.instance_id == bindparam("instance_id", type_=_input.c.instance_id.type))))


class SqlJournal:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(self, instance_id: int, *, kind: str, element: str, actor: str, payload: dict[str, Any],
               at: datetime) -> None:
        """Record one input; the caller holds the instance (its row lock, or it has just created it)."""
        write(self.conn, _APPEND, dict(instance_id=instance_id, kind=kind, element=element[:100], actor=actor[:64],
                                       payload=json.dumps(payload, ensure_ascii=False, default=str), at=at))

    def inputs(self, instance_id: int) -> list[RecordedInput]:
        stmt = select(_input).where(_input.c.instance_id == instance_id).order_by(_input.c.seq)
        return [RecordedInput(r.seq, r.kind, r.element, r.actor, json.loads(r.payload), r.at)
                for r in self.conn.execute(stmt)]

    def finished_instances(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Finished instances with a recorded start, oldest first: id, business key, process, completed at."""
        started = select(_input.c.instance_id).where(_input.c.kind == "start")
        stmt = (select(_inst.c.id, _inst.c.business_key, _inst.c.process_id, _inst.c.applicant,
                       _inst.c.completed_at)
                .where(_inst.c.status == "complete", _inst.c.id.in_(started)).order_by(_inst.c.id))
        if since is not None:
            stmt = stmt.where(_inst.c.completed_at >= since)
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def observe(self, instance_id: int) -> Observation:
        """The instance as ``bpmn test`` and replay judge it (engine/domain/journal.py)."""
        row = self.conn.execute(select(_inst.c.status, _inst.c.outcome, _inst.c.business_key)
                                .where(_inst.c.id == instance_id)).one()
        openings = tuple((bpmn_id, tuple(json.loads(candidates))) for bpmn_id, candidates in self.conn.execute(
            select(_task.c.bpmn_id, _task.c.candidates).where(_task.c.instance_id == instance_id)
            .order_by(_task.c.id)))
        reservations = tuple(ReservationFact(r.line_key, r.amount, r.consumed, r.released) for r in self.conn.execute(
            select(_line.c.line_key, _res.c.amount, _res.c.consumed, _res.c.released)
            .join(_line, _line.c.id == _res.c.line_id).where(_res.c.document_ref == row.business_key)
            .order_by(_res.c.id)))
        notifications = tuple(t for t in (json.loads(p).get("template") for p in self.conn.scalars(
            select(_job.c.params).where(_job.c.instance_id == instance_id, _job.c.operator == "notify/Send")
            .order_by(_job.c.id))) if t and t != "task_opened")
        return Observation(row.status, row.outcome, openings, reservations, notifications)
