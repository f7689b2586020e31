"""Read-side ledger queries: balances for reports, totals for ``ledger verify``, line setup."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Connection, case, func, insert, select
from sqlalchemy.orm import Session

from engine.domain.budget import ZERO, ControlMode, EntryKind
from engine.domain.budget_line import BudgetLineKey, LinePolicy, period_kind
from engine.domain.ledger_check import LineTotals, ReservationTotals
from engine.persistence.instance_repository import running_on_statement
from engine.persistence.tables import BudgetLine, CostCenter, ExpenseSubject, LedgerEntry, OrgUnit, Reservation
from engine.persistence.types import utcnow
from engine.persistence.workflow_tables import ProcessInstance

_line = BudgetLine.__table__
_entry = LedgerEntry.__table__
_res = Reservation.__table__
_inst = ProcessInstance.__table__


def line_totals(session: Session | Connection) -> Iterator[LineTotals]:
    sums = (
        select(_entry.c.line_id,
               func.sum(_entry.c.budget_delta).label("b"), func.sum(_entry.c.reserved_delta).label("r"),
               func.sum(_entry.c.consumed_delta).label("c"))
        .group_by(_entry.c.line_id).subquery()
    )
    stmt = select(_line, sums.c.b, sums.c.r, sums.c.c).outerjoin(sums, sums.c.line_id == _line.c.id)
    for row in session.execute(stmt.order_by(_line.c.id)):
        yield LineTotals(
            line_id=row.id, label=row.line_key, control_mode=ControlMode(row.control_mode),
            tolerance_pct=row.tolerance_pct, cached=(row.budget, row.reserved, row.consumed),
            entries=(_dec(row.b), _dec(row.r), _dec(row.c)),
        )


def reservation_totals(session: Session | Connection) -> Iterator[ReservationTotals]:
    def reserved_delta_of(kind: EntryKind) -> ColumnElement[Decimal]:
        return func.sum(case((_entry.c.kind == kind.value, _entry.c.reserved_delta), else_=None))

    sums = (
        select(_entry.c.reservation_id,
               reserved_delta_of(EntryKind.RESERVE).label("by_reserve"),
               reserved_delta_of(EntryKind.CONSUME).label("by_consume"),
               reserved_delta_of(EntryKind.RELEASE).label("by_release"))
        .where(_entry.c.reservation_id.is_not(None)).group_by(_entry.c.reservation_id).subquery()
    )
    stmt = (
        select(_res, _line.c.line_key, sums.c.by_reserve, sums.c.by_consume, sums.c.by_release)
        .join(_line, _line.c.id == _res.c.line_id)
        .outerjoin(sums, sums.c.reservation_id == _res.c.id)
        .order_by(_res.c.id)
    )
    for row in session.execute(stmt):
        yield ReservationTotals(
            reservation_id=row.id, line_label=row.line_key, amount=row.amount, status=row.status,
            cached_consumed=row.consumed, cached_released=row.released,
            # CONSUME and RELEASE take from the reservation: their reserved_delta is negative.
            reserved_by_entries=_dec(row.by_reserve), consumed_by_entries=ZERO - _dec(row.by_consume),
            released_by_entries=ZERO - _dec(row.by_release),
        )


def _dec(value: Decimal | None) -> Decimal:
    return ZERO if value is None else value


@dataclass(frozen=True, slots=True)
class LineBalance:
    line_id: int
    label: str
    currency: str
    control_mode: str
    budget: Decimal
    reserved: Decimal
    consumed: Decimal

    @property
    def available(self) -> Decimal:
        return self.budget - self.reserved - self.consumed


def balances(session: Session | Connection, *, prefix: str | None = None) -> list[LineBalance]:
    stmt = select(_line).order_by(_line.c.line_key)
    if prefix:
        stmt = stmt.where(_line.c.line_key.startswith(prefix))
    return [
        LineBalance(r.id, r.line_key, r.currency, r.control_mode, r.budget, r.reserved, r.consumed)
        for r in session.execute(stmt)
    ]


def line_names(session: Session | Connection) -> dict[int, tuple[str, str]]:
    """Each line's holder (org unit or cost center) and subject by name: what people read in an export."""
    org, center, subject = OrgUnit.__table__, CostCenter.__table__, ExpenseSubject.__table__
    stmt = (select(_line.c.id, func.coalesce(org.c.name, center.c.name), subject.c.name).select_from(_line)
            .outerjoin(org, org.c.id == _line.c.org_unit_id)
            .outerjoin(center, center.c.id == _line.c.cost_center_id)
            .join(subject, subject.c.id == _line.c.subject_id))
    return {line_id: (holder or "", subject_name) for line_id, holder, subject_name in session.execute(stmt)}


def find_line(session: Session | Connection, key: BudgetLineKey) -> int | None:
    found = session.execute(select(_line.c.id).where(_line.c.line_key == key.label)).scalar()
    return None if found is None else int(found)


def create_line(
    session: Session, key: BudgetLineKey, *, ids: dict[str, int | None], currency: str, policy: LinePolicy
) -> int:
    """Insert an empty line (budget comes only through ALLOCATE entries); ``ids`` resolves the codes."""
    period_kind(key.period)
    stmt = insert(_line).values(
        line_key=key.label, period=key.period, org_unit_id=ids.get("org_unit"),
        cost_center_id=ids.get("cost_center"), subject_id=ids["subject"], project=key.project,
        currency=currency, control_mode=policy.control_mode.value, tolerance_pct=policy.tolerance_pct,
        budget=ZERO, reserved=ZERO, consumed=ZERO, created_at=utcnow(),
    ).returning(_line.c.id)
    return int(session.execute(stmt).scalar_one())




@dataclass(frozen=True)
class OpenReservation:
    """An open reservation with its document's state: what a budget admin reviews for left-overs."""

    reservation_id: int
    line: str
    document: str
    document_status: str | None  # the document's process status; None if no flow owns it
    drawn_on_by: str | None  # a running flow that counts on it (a claim on the application), if any
    created_at: datetime
    currency: str
    amount: Decimal
    remaining: Decimal


def open_reservations(session: Session | Connection, *, created_before: datetime | None = None
                      ) -> list[OpenReservation]:
    """Open reservations, oldest first (only those made before ``created_before`` if given)."""
    drawn_on_by = running_on_statement(_res.c.document_ref, _inst.alias("claim")).scalar_subquery()
    stmt = (select(_res.c.id, _line.c.line_key, _res.c.document_ref, _inst.c.status, drawn_on_by, _res.c.created_at,
                   _res.c.currency, _res.c.amount, _res.c.consumed, _res.c.released)
            .join(_line, _line.c.id == _res.c.line_id)
            .outerjoin(_inst, _inst.c.business_key == _res.c.document_ref)
            .where(_res.c.status == "open").order_by(_res.c.created_at, _res.c.id))
    if created_before is not None:
        stmt = stmt.where(_res.c.created_at < created_before)
    return [OpenReservation(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[7] - r[8] - r[9])
            for r in session.execute(stmt)]
