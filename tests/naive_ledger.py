"""A deliberately wrong reservation: check the balance, then book in a second transaction.

Test-only negative control. It shows the concurrency test can fail: with the check
and the booking in separate transactions, concurrent clients all see the same
headroom and together book past the line's budget (docs/ledger.md).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.domain.budget import ReservationStatus
from engine.domain.errors import BudgetInsufficient
from engine.persistence.tables import BudgetLine, LedgerEntry, Reservation
from engine.persistence.types import utcnow

_line, _res, _entry = BudgetLine.__table__, Reservation.__table__, LedgerEntry.__table__


def naive_reserve(factory: sessionmaker[Session], *, line_id: int, amount: Decimal, key: str) -> None:
    with factory() as s:  # check ...
        row = s.execute(select(_line.c.budget, _line.c.reserved, _line.c.consumed).where(_line.c.id == line_id)).one()
    if row.budget - row.reserved - row.consumed < amount:
        raise BudgetInsufficient(f"naive: line {line_id} is full")
    with factory() as s:  # ... then act, in another transaction: the race window
        res_id = s.execute(insert(_res).values(
            line_id=line_id, document_ref=key, currency="CNY", amount=amount, consumed=0, released=0,
            status=ReservationStatus.OPEN.value, created_at=utcnow()).returning(_res.c.id)).scalar_one()
        s.execute(insert(_entry).values(
            line_id=line_id, kind="RESERVE", amount=amount, currency="CNY", budget_delta=0, reserved_delta=amount,
            consumed_delta=0, reservation_id=res_id, operation_key=key, over_budget=False, created_at=utcnow()))
        s.execute(update(_line).where(_line.c.id == line_id).values(reserved=_line.c.reserved + amount))
        s.commit()
