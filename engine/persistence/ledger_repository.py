"""The ledger's SQL: row locks, append-only entries, cached balances, idempotency records.

Hot path, so Core statements rather than ORM objects: a reservation is six short
statements in one transaction with the line row locked from the first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.domain.budget import ZERO, ControlMode, LineState, Posting, ReservationState, ReservationStatus
from engine.domain.errors import IdempotencyConflict, UnknownBudgetLine, UnknownReservation
from engine.persistence.tables import BudgetLine, LedgerEntry, LedgerOperation, Reservation
from engine.persistence.types import utcnow

_line = BudgetLine.__table__
_entry = LedgerEntry.__table__
_res = Reservation.__table__
_op = LedgerOperation.__table__

class SqlLedgerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_line(self, line_id: int) -> LineState:
        stmt = (
            select(_line.c.id, _line.c.line_key, _line.c.currency, _line.c.control_mode,
                   _line.c.tolerance_pct, _line.c.budget, _line.c.reserved, _line.c.consumed)
            .where(_line.c.id == line_id)
            .with_for_update()  # PostgreSQL row lock; SQLite already holds its write lock (BEGIN IMMEDIATE)
        )
        row = self.session.execute(stmt).first()
        if row is None:
            raise UnknownBudgetLine(f"budget line {line_id} does not exist", line=line_id)
        return LineState(
            line_id=row.id, label=row.line_key, currency=row.currency,
            control_mode=ControlMode(row.control_mode), tolerance_pct=row.tolerance_pct,
            budget=row.budget, reserved=row.reserved, consumed=row.consumed,
        )

    def line_of_reservation(self, reservation_id: int) -> int:
        line_id = self.session.execute(select(_res.c.line_id).where(_res.c.id == reservation_id)).scalar()
        if line_id is None:
            raise UnknownReservation(f"reservation {reservation_id} does not exist", reservation=reservation_id)
        return int(line_id)

    def reservation(self, reservation_id: int) -> ReservationState:
        row = self.session.execute(select(_res).where(_res.c.id == reservation_id)).first()
        if row is None:
            raise UnknownReservation(f"reservation {reservation_id} does not exist", reservation=reservation_id)
        return ReservationState(
            reservation_id=row.id, line_id=row.line_id, currency=row.currency, amount=row.amount,
            consumed=row.consumed, released=row.released, status=ReservationStatus(row.status),
        )

    def stored_result(self, key: str, fingerprint: str) -> dict[str, object] | None:
        row = self.session.execute(select(_op.c.fingerprint, _op.c.result).where(_op.c.key == key)).first()
        if row is None:
            return None
        if row.fingerprint != fingerprint:
            raise IdempotencyConflict(
                f"idempotency key {key!r} was already used for a different operation or amount", key=key
            )
        result: dict[str, object] = json.loads(row.result)
        return result

    def store_result(self, key: str, kind: str, fingerprint: str, result: dict[str, object]) -> None:
        try:
            self.session.execute(insert(_op).values(
                key=key, kind=kind, fingerprint=fingerprint, result=json.dumps(result), created_at=utcnow()
            ))
        except IntegrityError:
            # A concurrent request with the same key on another line got there first; the
            # unit of work rolls this transaction back, so nothing of this attempt stays.
            raise IdempotencyConflict(f"idempotency key {key!r} is being used concurrently", key=key) from None

    def add_reservation(self, line: LineState, amount: Decimal, *, document: str) -> int:
        stmt = insert(_res).values(
            line_id=line.line_id, document_ref=document, currency=line.currency, amount=amount,
            consumed=ZERO, released=ZERO, status=ReservationStatus.OPEN.value, created_at=utcnow(),
        ).returning(_res.c.id)
        return int(self.session.execute(stmt).scalar_one())

    def append(
        self, line: LineState, postings: Sequence[Posting], *, key: str, document: str | None,
        reservation_id: int | None = None, memo: str | None = None,
    ) -> None:
        if not postings:
            return
        now = utcnow()
        self.session.execute(insert(_entry), [
            {"line_id": line.line_id, "kind": p.kind.value, "amount": p.amount, "currency": line.currency,
             "budget_delta": p.budget_delta, "reserved_delta": p.reserved_delta,
             "consumed_delta": p.consumed_delta, "reservation_id": reservation_id, "operation_key": key,
             "document_ref": document, "over_budget": p.over_budget, "memo": memo, "created_at": now}
            for p in postings
        ])
        self.session.execute(
            update(_line).where(_line.c.id == line.line_id).values(
                budget=_line.c.budget + sum((p.budget_delta for p in postings), ZERO),
                reserved=_line.c.reserved + sum((p.reserved_delta for p in postings), ZERO),
                consumed=_line.c.consumed + sum((p.consumed_delta for p in postings), ZERO),
            )
        )

    def resolve_reservation(
        self, reservation_id: int, *, consumed: Decimal, released: Decimal, close: bool
    ) -> None:
        values: dict[str, object] = {
            "consumed": _res.c.consumed + consumed, "released": _res.c.released + released,
        }
        if close:
            values.update(status=ReservationStatus.CLOSED.value, closed_at=utcnow())
        self.session.execute(update(_res).where(_res.c.id == reservation_id).values(**values))
