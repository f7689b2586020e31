"""Budget lines as people read them: balances with names, a document's reservations, a line's entries
(``uow.budget_views``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, func, literal, select

from engine.persistence.audit_table import AuditLog
from engine.persistence.tables import BudgetLine, CostCenter, ExpenseSubject, LedgerEntry, OrgUnit, Reservation

_line = BudgetLine.__table__
_unit = OrgUnit.__table__
_cc = CostCenter.__table__
_cc_unit = OrgUnit.__table__.alias("cc_unit")
_subject = ExpenseSubject.__table__
_res = Reservation.__table__
_entry = LedgerEntry.__table__
_audit = AuditLog.__table__

_holder_unit = func.coalesce(_unit.c.code, _cc_unit.c.code)
LINE_COLUMNS = (
    _line.c.id.label("line_id"), _line.c.line_key, _line.c.period, _holder_unit.label("org_unit"),
    func.coalesce(_unit.c.name, _cc_unit.c.name).label("org_unit_name"), _cc.c.code.label("cost_center"),
    _subject.c.code.label("subject"), _subject.c.name.label("subject_name"), _line.c.currency, _line.c.control_mode,
    _line.c.tolerance_pct, _line.c.budget.label("allocated"), _line.c.reserved, _line.c.consumed)
_LINES = (select(*LINE_COLUMNS).select_from(
    _line.outerjoin(_unit, _unit.c.id == _line.c.org_unit_id).outerjoin(_cc, _cc.c.id == _line.c.cost_center_id)
    .outerjoin(_cc_unit, _cc_unit.c.id == _cc.c.org_unit_id).join(_subject, _subject.c.id == _line.c.subject_id)))


class SqlBudgetViews:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lines(self, *, ids: list[int] | None = None, keys: list[str] | None = None, period: str | None = None,
              units: list[str] | None = None, subject: str | None = None, after: str | None = None,
              limit: int = 100) -> list[dict[str, Any]]:
        """Lines with balances and names, by line key; each argument given narrows them."""
        stmt = _LINES
        for column, values in ((_line.c.id, ids), (_line.c.line_key, keys), (_holder_unit, units)):
            if values is not None:
                stmt = stmt.where(column.in_(values))
        if period:
            stmt = stmt.where(_line.c.period == period)
        if subject:
            stmt = stmt.where(_subject.c.code == subject)
        if after is not None:
            stmt = stmt.where(_line.c.line_key > after)
        return [dict(r._mapping) for r in self.conn.execute(stmt.order_by(_line.c.line_key).limit(limit))]

    def reservations_of(self, documents: list[str]) -> list[dict[str, Any]]:
        stmt = (select(_res.c.id, _res.c.line_id, _res.c.document_ref, _res.c.amount, _res.c.consumed,
                       _res.c.released, _res.c.status).where(_res.c.document_ref.in_(documents)).order_by(_res.c.id))
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def units(self) -> list[tuple[str, str | None, str | None]]:
        """(code, parent code, manager code) of every org unit."""
        parent = _unit.alias("parent")
        stmt = (select(_unit.c.code, parent.c.code, _unit.c.manager_code)
                .outerjoin(parent, parent.c.id == _unit.c.parent_id))
        return [(c, p, m) for c, p, m in self.conn.execute(stmt)]

    def entries(self, line_id: int, *, before: int | None, limit: int) -> list[dict[str, Any]]:
        """The line's ledger entries, newest first; the actor is who audited the booking's key (a transfer's
        budget admin), ``engine`` for a flow's booking, else None."""
        booked_by = (select(_audit.c.actor).where(_audit.c.subject_type == "ledger_operation",
                                                  _audit.c.subject_id == _entry.c.operation_key)
                     .order_by(_audit.c.seq).limit(1).scalar_subquery())
        actor = func.coalesce(booked_by, case((_entry.c.document_ref.is_not(None), literal("engine")), else_=None))
        stmt = (select(_entry.c.id, _entry.c.kind, _entry.c.amount, _entry.c.currency,
                       _entry.c.document_ref.label("document_no"), _entry.c.reservation_id, _entry.c.memo,
                       _entry.c.created_at.label("at"), actor.label("actor"), _entry.c.budget_delta,
                       _entry.c.reserved_delta, _entry.c.consumed_delta)
                .where(_entry.c.line_id == line_id).order_by(_entry.c.id.desc()).limit(limit))
        if before is not None:
            stmt = stmt.where(_entry.c.id < before)
        return [dict(r._mapping) for r in self.conn.execute(stmt)]
