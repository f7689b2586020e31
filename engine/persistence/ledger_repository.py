"""The ledger's SQL: row locks, append-only entries, cached balances, idempotency records.

This is the hot path: a reservation is five short statements in one transaction,
the line row locked by the first. Every statement is built once at import; the
ones on the reservation path run as Prepared statements (engine/persistence/
prepared.py) straight on the DB-API cursor of the unit of work's connection.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update
from sqlalchemy.orm import Session

from engine.domain.budget import ZERO, ControlMode, LineState, Posting, ReservationState, ReservationStatus
from engine.domain.errors import IdempotencyConflict, UnknownBudgetLine, UnknownReservation
from engine.persistence.prepared import Prepared, driver_connection
from engine.persistence.tables import BudgetLine, LedgerEntry, LedgerOperation, Reservation
from engine.persistence.types import utcnow

_line = BudgetLine.__table__
_entry = LedgerEntry.__table__
_res = Reservation.__table__
_op = LedgerOperation.__table__

# FOR UPDATE takes the row lock on PostgreSQL; SQLite renders no FOR UPDATE and
# relies on the write lock its BEGIN IMMEDIATE already holds.
_LOCK_LINE = (
    select(_line.c.id, _line.c.line_key, _line.c.currency, _line.c.control_mode, _line.c.tolerance_pct,
           _line.c.budget, _line.c.reserved, _line.c.consumed)
    .where(_line.c.id == bindparam("line_id"))
    .with_for_update()
)
# The same lock, with the idempotency record for the key read in the same statement: for SQLite only,
# whose BEGIN IMMEDIATE already excludes every other writer. On PostgreSQL a statement that waited for
# a row lock re-reads the locked row but not the rows it joined, so a duplicate queued behind the
# first caller would miss the key record the first one stored; there the key is read by a second
# statement, sent in the same round trip, that starts after the lock is granted.
_LOCK_LINE_WITH_KEY = (
    select(_line.c.id, _line.c.line_key, _line.c.currency, _line.c.control_mode, _line.c.tolerance_pct,
           _line.c.budget, _line.c.reserved, _line.c.consumed, _op.c.fingerprint, _op.c.result)
    .select_from(_line.outerjoin(_op, _op.c.key == bindparam("key")))
    .where(_line.c.id == bindparam("line_id"))
    .with_for_update(of=_line)
)
_LINE_OF_RESERVATION = Prepared(select(_res.c.line_id).where(_res.c.id == bindparam("reservation_id")))
_RESERVATION = Prepared(select(_res.c.id, _res.c.line_id, _res.c.currency, _res.c.amount, _res.c.consumed,
                               _res.c.released, _res.c.status).where(_res.c.id == bindparam("reservation_id")))
_STORED_RESULT = select(_op.c.fingerprint, _op.c.result).where(_op.c.key == bindparam("key"))
_STORED_RESULT_FAST = Prepared(_STORED_RESULT)
_STORE_RESULT = Prepared(insert(_op), column_keys=["key", "kind", "fingerprint", "result", "created_at"])
_ADD_RESERVATION = Prepared(insert(_res).returning(_res.c.id), column_keys=[
    "line_id", "document_ref", "currency", "amount", "consumed", "released", "status", "created_at"])
_ADD_ENTRIES = Prepared(insert(_entry), column_keys=[
    "line_id", "kind", "amount", "currency", "budget_delta", "reserved_delta", "consumed_delta", "reservation_id",
    "operation_key", "document_ref", "over_budget", "memo", "created_at"])
_MOVE_LINE = Prepared(
    update(_line).where(_line.c.id == bindparam("line_id"))
    .values(budget=_line.c.budget + bindparam("d_budget", type_=_line.c.budget.type),
            reserved=_line.c.reserved + bindparam("d_reserved", type_=_line.c.reserved.type),
            consumed=_line.c.consumed + bindparam("d_consumed", type_=_line.c.consumed.type))
)
_LOCK_LINE_WITH_KEY_FAST = Prepared(_LOCK_LINE_WITH_KEY)
_LOCK_LINE_FAST = Prepared(_LOCK_LINE)
_RESOLVE = Prepared(
    update(_res).where(_res.c.id == bindparam("reservation_id"))
    .values(consumed=_res.c.consumed + bindparam("d_consumed", type_=_res.c.consumed.type),
            released=_res.c.released + bindparam("d_released", type_=_res.c.released.type))
)
_CLOSE = Prepared(
    update(_res).where(_res.c.id == bindparam("reservation_id"))
    .values(consumed=_res.c.consumed + bindparam("d_consumed", type_=_res.c.consumed.type),
            released=_res.c.released + bindparam("d_released", type_=_res.c.released.type),
            status=ReservationStatus.CLOSED.value, closed_at=bindparam("closed_at", type_=_res.c.closed_at.type))
)


class SqlLedgerRepository:
    """``pipeline=True`` (PostgreSQL only) queues writes that return nothing and sends them in one round trip
    (libpq pipeline mode) before the next read or the commit; the caller must call ``flush`` before commit."""

    def __init__(self, conn: Connection | Session, *, pipeline: bool = False) -> None:
        # Inside a caller's ORM session (e.g. the master-data import), use its connection and transaction.
        self.conn: Connection = conn.connection() if isinstance(conn, Session) else conn
        self._pipeline = pipeline and self.conn.dialect.name == "postgresql"
        self._pending: list[tuple[Prepared, Any, bool]] = []

    @property
    def pipelined(self) -> bool:
        return self._pipeline

    def _write(self, statement: Prepared, params: Any, *, many: bool = False) -> None:
        if self._pipeline:
            self._pending.append((statement, params, many))
        elif many:
            statement.many(self.conn, params)
        else:
            statement.execute(self.conn, params)

    def flush(self) -> None:
        """Send the queued writes; a unique violation among them is an idempotency conflict."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        try:
            with driver_connection(self.conn).pipeline():  # psycopg's pipeline mode
                for statement, params, many in pending:
                    if many:
                        statement.many(self.conn, params)
                    else:
                        statement.execute(self.conn, params)
        except self.conn.dialect.loaded_dbapi.IntegrityError:
            raise IdempotencyConflict("an idempotency key was used concurrently; nothing was booked") from None

    def discard(self) -> None:
        """Forget the queued writes: they belong to a transaction that is being rolled back."""
        self._pending = []

    def lock_line(self, line_id: int) -> LineState:
        self.flush()
        return self._line_state(_LOCK_LINE_FAST.first(self.conn, {"line_id": line_id}), line_id)

    def lock_line_for(self, line_id: int, key: str, fingerprint: str) -> tuple[LineState, dict[str, object] | None]:
        """Lock the line, then fetch what ``key`` already recorded: one round trip either way."""
        self.flush()
        if self.conn.dialect.name == "postgresql":
            return self._lock_then_read_key(line_id, key, fingerprint)
        row = _LOCK_LINE_WITH_KEY_FAST.first(self.conn, {"line_id": line_id, "key": key})
        line = self._line_state(row, line_id)
        assert row is not None
        return line, _prior(key, fingerprint, row[8], row[9])

    def _lock_then_read_key(self, line_id: int, key: str, fingerprint: str
                            ) -> tuple[LineState, dict[str, object] | None]:
        """Two statements in one pipeline: the key is read under a snapshot taken after the lock is held
        (READ COMMITTED takes one per statement), so it sees what a caller we waited for committed."""
        driver = self.conn.connection.dbapi_connection
        with driver.pipeline():  # type: ignore[union-attr]
            locked = _LOCK_LINE_FAST.execute(self.conn, {"line_id": line_id})
            stored = _STORED_RESULT_FAST.execute(self.conn, {"key": key})
        line = self._line_state(_LOCK_LINE_FAST.read(self.conn, locked.fetchone()), line_id)
        found = _STORED_RESULT_FAST.read(self.conn, stored.fetchone())
        return line, None if found is None else _prior(key, fingerprint, found[0], found[1])

    @staticmethod
    def _line_state(row: Row[Any] | tuple[Any, ...] | None, line_id: int) -> LineState:
        if row is None:
            raise UnknownBudgetLine(f"budget line {line_id} does not exist", line=line_id)
        line_id_, label, currency, mode, tolerance, budget, reserved, consumed = tuple(row)[:8]
        return LineState(
            line_id=line_id_, label=label, currency=currency, control_mode=ControlMode(mode),
            tolerance_pct=tolerance, budget=budget, reserved=reserved, consumed=consumed,
        )

    def line_of_reservation(self, reservation_id: int) -> int:
        self.flush()
        line_id = _LINE_OF_RESERVATION.scalar(self.conn, {"reservation_id": reservation_id})
        if line_id is None:
            raise UnknownReservation(f"reservation {reservation_id} does not exist", reservation=reservation_id)
        return int(line_id)

    def reservation(self, reservation_id: int) -> ReservationState:
        self.flush()
        row = _RESERVATION.first(self.conn, {"reservation_id": reservation_id})
        if row is None:
            raise UnknownReservation(f"reservation {reservation_id} does not exist", reservation=reservation_id)
        res_id, line_id, currency, amount, consumed, released, status = row
        return ReservationState(reservation_id=res_id, line_id=line_id, currency=currency, amount=amount,
                                consumed=consumed, released=released, status=ReservationStatus(status))

    def stored_result(self, key: str, fingerprint: str) -> dict[str, object] | None:
        row = self.conn.execute(_STORED_RESULT, {"key": key}).first()
        return None if row is None else _prior(key, fingerprint, row.fingerprint, row.result)

    def store_result(self, key: str, kind: str, fingerprint: str, result: dict[str, object]) -> None:
        try:
            self._write(_STORE_RESULT, {"key": key, "kind": kind, "fingerprint": fingerprint,
                                        "result": json.dumps(result), "created_at": utcnow()})
        except self.conn.dialect.loaded_dbapi.IntegrityError:
            # A concurrent request with the same key on another line got there first; the
            # unit of work rolls this transaction back, so nothing of this attempt stays.
            raise IdempotencyConflict(f"idempotency key {key!r} is being used concurrently", key=key) from None

    def add_reservation(self, line: LineState, amount: Decimal, *, document: str) -> int:
        params = {"line_id": line.line_id, "document_ref": document, "currency": line.currency, "amount": amount,
                  "consumed": ZERO, "released": ZERO, "status": ReservationStatus.OPEN.value,
                  "created_at": utcnow()}
        return int(_ADD_RESERVATION.scalar(self.conn, params))

    def append(
        self, line: LineState, postings: Sequence[Posting], *, key: str, document: str | None,
        reservation_id: int | None = None, memo: str | None = None,
    ) -> None:
        if not postings:
            return
        now = utcnow()
        self._write(_ADD_ENTRIES, many=True, params=[
            {"line_id": line.line_id, "kind": p.kind.value, "amount": p.amount, "currency": line.currency,
             "budget_delta": p.budget_delta, "reserved_delta": p.reserved_delta,
             "consumed_delta": p.consumed_delta, "reservation_id": reservation_id, "operation_key": key,
             "document_ref": document, "over_budget": p.over_budget, "memo": memo, "created_at": now}
            for p in postings
        ])
        self._write(_MOVE_LINE, {
            "line_id": line.line_id,
            "d_budget": sum((p.budget_delta for p in postings), ZERO),
            "d_reserved": sum((p.reserved_delta for p in postings), ZERO),
            "d_consumed": sum((p.consumed_delta for p in postings), ZERO),
        })

    def resolve_reservation(
        self, reservation_id: int, *, consumed: Decimal, released: Decimal, close: bool
    ) -> None:
        params: dict[str, object] = {"reservation_id": reservation_id, "d_consumed": consumed, "d_released": released}
        if close:
            params["closed_at"] = utcnow()
        self._write(_CLOSE if close else _RESOLVE, params)


def _prior(key: str, expected: str, stored_fingerprint: str | None, stored: str | None) -> dict[str, object] | None:
    if stored_fingerprint is None:
        return None
    if stored_fingerprint != expected:
        raise IdempotencyConflict(
            f"idempotency key {key!r} was already used for a different operation or amount", key=key
        )
    result: dict[str, object] = json.loads(stored or "{}")
    return result
