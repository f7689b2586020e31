"""What an attack must leave unchanged, and what it must leave behind (an audit row naming the refusal)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from engine.persistence.audit_table import AuditLog
from engine.persistence.tables import Employee, LedgerEntry, Reservation
from engine.persistence.workflow_tables import ClaimedInvoice, HumanTask, OutboxJob, ProcessInstance, Voucher


@dataclass(frozen=True)
class Snapshot:
    """Everything a refused request must not change."""

    ledger_entries: int
    reservations: int
    vouchers: int
    jobs: int
    invoices: int
    open_tasks: int
    instances: tuple[tuple[int, int, str, str], ...]  # id, revision, status, sha of the state


def snapshot(app: Any) -> Snapshot:
    with app.session_factory() as s:
        def count(model: Any) -> int:
            return int(s.scalar(select(func.count()).select_from(model)))

        instances = tuple((i, r, st, hashlib.sha256(state.encode()).hexdigest()) for i, r, st, state in s.execute(
            select(ProcessInstance.id, ProcessInstance.revision, ProcessInstance.status, ProcessInstance.state)
            .order_by(ProcessInstance.id)))
        open_tasks = int(s.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.status == "open")))
        return Snapshot(count(LedgerEntry), count(Reservation), count(Voucher), count(OutboxJob),
                        count(ClaimedInvoice), open_tasks, instances)


def audit_rows(app: Any, action: str) -> list[dict[str, Any]]:
    with app.session_factory() as s:
        rows = s.execute(select(AuditLog.actor, AuditLog.subject_id, AuditLog.payload)
                         .where(AuditLog.action == action).order_by(AuditLog.seq)).all()
    return [{"actor": a, "subject": sub, **json.loads(p)} for a, sub, p in rows]


def set_active(app: Any, code: str, active: bool) -> None:
    with app.session_factory() as s:
        s.execute(update(Employee).where(Employee.code == code).values(active=active))
        s.commit()


def instance_row(app: Any, instance: int) -> Any:
    with app.session_factory() as s:
        return s.execute(select(ProcessInstance).where(ProcessInstance.id == instance)).scalar_one()


def rewrite_state(app: Any, instance: int, change: Any) -> None:
    """Edit an instance's saved JSON directly: what an earlier hole (or a database admin) could have left."""
    with app.session_factory() as s:
        state = json.loads(s.scalar(select(ProcessInstance.state).where(ProcessInstance.id == instance)))
        change(state)
        s.execute(update(ProcessInstance).where(ProcessInstance.id == instance).values(
            state=json.dumps(state), revision=ProcessInstance.revision + 1))  # as every writer does
        s.commit()
