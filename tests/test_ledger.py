"""Ledger use cases against a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from engine.bench.scratch_line import make_scratch_line
from engine.domain.budget import ControlMode
from engine.domain.errors import BudgetInsufficient, IdempotencyConflict, ReservationClosed, UnknownBudgetLine
from engine.domain.money import Money
from engine.persistence import ledger_queries
from engine.persistence.tables import BudgetLine, LedgerEntry, LedgerOperation
from engine.services import ledger
from engine.services.ledger_verify import verify

D = Decimal


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def counts(container) -> tuple[int, int]:
    with container.session_factory() as s:
        return (s.scalar(select(func.count()).select_from(LedgerEntry)),
                s.scalar(select(func.count()).select_from(LedgerOperation)))


def balance(container, line_id) -> tuple[Decimal, Decimal, Decimal]:
    with container.session_factory() as s:
        row = s.get(BudgetLine, line_id)
        return row.budget, row.reserved, row.consumed


def verify_report(container):
    with container.session_factory() as s:
        return verify(ledger_queries.line_totals(s), ledger_queries.reservation_totals(s))


def test_the_same_reservation_sent_twice_books_once(container):
    line_id = make_scratch_line(container, "1000")
    first = ledger.reserve(container.uow, line_id=line_id, amount=cny("300"), key="APP-1:reserve", document="APP-1")
    before = counts(container)
    again = ledger.reserve(container.uow, line_id=line_id, amount=cny("300.00"), key="APP-1:reserve",
                           document="APP-1")
    assert again == first and again.replayed and not first.replayed
    assert counts(container) == before
    assert balance(container, line_id) == (D(1000), D(300), D(0))


def test_the_same_write_off_and_release_sent_twice_book_once(container):
    line_id = make_scratch_line(container, "1000")
    r = ledger.reserve(container.uow, line_id=line_id, amount=cny("300"), key="APP-2:reserve", document="APP-2")
    w1 = ledger.write_off(container.uow, reservation_id=r.reservation_id, amount=cny("100"),
                          key="EXP-1:write_off", document="EXP-1")
    w2 = ledger.write_off(container.uow, reservation_id=r.reservation_id, amount=cny("100"),
                          key="EXP-1:write_off", document="EXP-1")
    assert w1 == w2 and w2.replayed
    rel1 = ledger.release(container.uow, reservation_id=r.reservation_id, key="APP-2:cancel", document="APP-2")
    rel2 = ledger.release(container.uow, reservation_id=r.reservation_id, key="APP-2:cancel", document="APP-2")
    assert rel1 == rel2 and rel1.released == D(200)
    assert balance(container, line_id) == (D(1000), D(0), D(100))
    assert verify_report(container).ok


def test_a_write_off_after_a_release_is_refused_and_books_nothing(container):
    line_id = make_scratch_line(container, "1000")
    r = ledger.reserve(container.uow, line_id=line_id, amount=cny("300"), key="APP-3:reserve", document="APP-3")
    ledger.release(container.uow, reservation_id=r.reservation_id, key="APP-3:reject", document="APP-3")
    before = counts(container)
    with pytest.raises(ReservationClosed, match=f"reservation {r.reservation_id} is already closed"):
        ledger.write_off(container.uow, reservation_id=r.reservation_id, amount=cny("10"),
                         key="EXP-3:write_off", document="EXP-3")
    assert counts(container) == before


def test_a_key_reused_with_another_amount_is_a_conflict(container):
    line_id = make_scratch_line(container, "1000")
    ledger.reserve(container.uow, line_id=line_id, amount=cny("10"), key="APP-4:reserve", document="APP-4")
    with pytest.raises(IdempotencyConflict, match="APP-4:reserve"):
        ledger.reserve(container.uow, line_id=line_id, amount=cny("11"), key="APP-4:reserve", document="APP-4")


def test_several_partial_write_offs_then_the_last_closes_and_releases_the_rest(container):
    line_id = make_scratch_line(container, "1000")
    r = ledger.reserve(container.uow, line_id=line_id, amount=cny("500"), key="APP-5:reserve", document="APP-5")
    for n, amount in enumerate(["120.50", "79.50"]):
        ledger.write_off(container.uow, reservation_id=r.reservation_id, amount=cny(amount),
                         key=f"EXP-5{n}:write_off", document=f"EXP-5{n}")
    last = ledger.write_off(container.uow, reservation_id=r.reservation_id, amount=cny("100"),
                            key="EXP-52:write_off", document="EXP-52", close=True)
    assert (last.released, last.closed) == (D(200), True)
    assert balance(container, line_id) == (D(1000), D(0), D(300))
    assert verify_report(container).ok


def test_overrun_beyond_the_reservation_books_the_excess_only_if_the_line_allows(container):
    line_id = make_scratch_line(container, "1000", mode=ControlMode.FORBID, tolerance="5")
    r = ledger.reserve(container.uow, line_id=line_id, amount=cny("1000"), key="APP-6:reserve", document="APP-6")
    with pytest.raises(BudgetInsufficient, match="write-off beyond reservation"):
        ledger.write_off(container.uow, reservation_id=r.reservation_id, amount=cny("1051"),
                         key="EXP-6:write_off", document="EXP-6", close=True)
    ok = ledger.write_off(container.uow, reservation_id=r.reservation_id, amount=cny("1050"),
                          key="EXP-6b:write_off", document="EXP-6b", close=True)
    assert (ok.from_reservation, ok.excess, ok.over_budget) == (D(1000), D(50), True)
    assert balance(container, line_id) == (D(1000), D(0), D(1050))
    assert verify_report(container).ok


def test_a_refused_reservation_can_succeed_later_under_the_same_key(container):
    line_id = make_scratch_line(container, "100")
    with pytest.raises(BudgetInsufficient):
        ledger.reserve(container.uow, line_id=line_id, amount=cny("150"), key="APP-7:reserve", document="APP-7")
    ledger.adjust(container.uow, line_id=line_id, amount=cny("100"), key="BUDGET-7:raise")
    assert ledger.reserve(container.uow, line_id=line_id, amount=cny("150"), key="APP-7:reserve",
                          document="APP-7").reservation_id


def test_a_transfer_moves_budget_in_one_transaction_or_not_at_all(container):
    a, b = make_scratch_line(container, "1000"), make_scratch_line(container, "0")
    ledger.reserve(container.uow, line_id=a, amount=cny("900"), key="APP-8:reserve", document="APP-8")
    with pytest.raises(BudgetInsufficient):
        ledger.transfer(container.uow, from_line=a, to_line=b, amount=cny("200"), key="TR-1")
    assert balance(container, b) == (D(0), D(0), D(0))
    ledger.transfer(container.uow, from_line=a, to_line=b, amount=cny("100"), key="TR-2")
    ledger.transfer(container.uow, from_line=a, to_line=b, amount=cny("100"), key="TR-2")
    assert balance(container, a)[0] == D(900) and balance(container, b)[0] == D(100)
    assert verify_report(container).ok


def test_an_unknown_line_is_named(container):
    with pytest.raises(UnknownBudgetLine, match="budget line 999999 does not exist"):
        ledger.reserve(container.uow, line_id=999999, amount=cny("1"), key="X", document="X")


def test_ledger_entries_cannot_be_updated_or_deleted(container):
    make_scratch_line(container, "10")
    for statement in ("UPDATE ledger_entry SET amount = 0", "DELETE FROM ledger_entry"):
        with container.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))


def test_verify_cli_catches_a_cached_balance_that_disagrees_with_the_entries(container, cli_env):
    line_id = make_scratch_line(container, "1000")
    ledger.reserve(container.uow, line_id=line_id, amount=cny("10"), key="APP-9:reserve", document="APP-9")
    run = [sys.executable, "-m", "engine", "ledger", "verify"]
    ok = subprocess.run(run, env=cli_env, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    with container.engine.begin() as conn:
        conn.execute(text("UPDATE budget_line SET reserved = 0 WHERE id = :id"), {"id": line_id})
    bad = subprocess.run(run, env=cli_env, capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "cached reserved 0.0000 but entries sum to 10.0000" in bad.stdout
