"""A duplicate that waits for the line lock replays the first call's result, on both databases.

The race this pins down: two callers with one key start while a third transaction holds the
line; both wait, the first books, and the second must then find the first one's stored result.
On PostgreSQL a statement that waited for a row lock re-reads only the locked row, not rows
it joined from other tables, so the key record has to be read after the lock is granted.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from engine.bench.scratch_line import make_scratch_line as make_line
from engine.domain.money import Money
from engine.persistence.tables import LedgerEntry, Reservation
from engine.services import ledger

WAIT_S = 20


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


@contextmanager
def line_held(db_url: str, line_id: int, waiters: int) -> Iterator[Callable[[], None]]:
    """Hold ``line_id`` locked; the yielded function waits until ``waiters`` callers queue behind it."""
    if make_url(db_url).get_backend_name() == "sqlite":
        conn = sqlite3.connect(make_url(db_url).database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")  # SQLite locks the whole file: the line with it
        try:
            yield lambda: time.sleep(0.5)  # SQLite cannot say who waits; the result holds in any order
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = create_engine(db_url)
    with engine.connect() as conn:
        conn.execute(text("SELECT id FROM budget_line WHERE id = :id FOR UPDATE"), {"id": line_id})
        try:
            yield lambda: _wait_for_waiters(engine, waiters)
        finally:
            conn.rollback()
    engine.dispose()


def _wait_for_waiters(engine: Any, waiters: int) -> None:
    """Wait until ``waiters`` sessions of this database wait for a lock (the first behind the holder,
    the others behind the first: PostgreSQL queues them)."""
    deadline = time.monotonic() + WAIT_S
    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND wait_event_type = 'Lock'")
    while True:
        with engine.connect() as conn:  # a transaction per look: pg_stat_activity is a per-transaction snapshot
            if conn.execute(query).scalar_one() >= waiters:
                return
        assert time.monotonic() < deadline, f"{waiters} callers did not queue behind the line lock"
        time.sleep(0.02)


class Race:
    """``call`` running on two threads; ``results`` joins them and returns what each returned or raised."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self._results: list[Any] = [None, None]
        self._threads = [threading.Thread(target=self._one, args=(i, call)) for i in range(2)]
        for t in self._threads:
            t.start()

    def _one(self, i: int, call: Callable[[], Any]) -> None:
        try:
            self._results[i] = call()
        except Exception as exc:  # noqa: BLE001 - the assertion names what was raised
            self._results[i] = exc

    def results(self) -> list[Any]:
        for t in self._threads:
            t.join(WAIT_S * 3)
        return self._results


def booked_twice_at_most_once(results: list[Any]) -> None:
    assert not [r for r in results if isinstance(r, Exception)], f"a duplicate was refused: {results}"
    first, second = results
    assert first == second
    assert sorted([first.replayed, second.replayed]) == [False, True]


def test_a_duplicate_reservation_waiting_for_the_line_replays(container, db_url):
    line_id = make_line(container, "1000")
    with line_held(db_url, line_id, waiters=2) as both_waiting:
        racing = Race(lambda: ledger.reserve(container.uow, line_id=line_id, amount=cny("300"),
                                             key="DUP-1:reserve", document="DUP-1"))
        both_waiting()
    booked_twice_at_most_once(racing.results())
    with container.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Reservation).where(Reservation.line_id == line_id)) == 1
        assert s.scalar(select(func.sum(LedgerEntry.reserved_delta)).where(LedgerEntry.line_id == line_id)) \
            == Decimal(300)


@pytest.mark.parametrize("operation", ["write_off", "release", "adjust"])
def test_other_duplicate_bookings_waiting_for_the_line_replay(container, db_url, operation):
    line_id = make_line(container, "1000")
    r = ledger.reserve(container.uow, line_id=line_id, amount=cny("300"), key="DUP-2:reserve", document="DUP-2")
    calls = {
        "write_off": lambda: ledger.write_off(container.uow, reservation_id=r.reservation_id, amount=cny("100"),
                                              key="DUP-2:write-off", document="DUP-2"),
        "release": lambda: ledger.release(container.uow, reservation_id=r.reservation_id, key="DUP-2:release",
                                          document="DUP-2"),
        "adjust": lambda: ledger.adjust(container.uow, line_id=line_id, amount=cny("50"), key="DUP-2:adjust"),
    }
    with line_held(db_url, line_id, waiters=2) as both_waiting:
        racing = Race(calls[operation])
        both_waiting()
    booked_twice_at_most_once(racing.results())
    with container.session_factory() as s:
        entries = s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.line_id == line_id))
    assert entries in (3, 4)  # allocate + reserve + the one booking (a write-off may book two postings)
