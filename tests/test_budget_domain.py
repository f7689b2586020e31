"""The ledger's rules as pure functions: no database needed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.domain.budget import (
    ControlMode,
    EntryKind,
    LineState,
    ReservationState,
    ReservationStatus,
    check_spend,
    plan_budget_change,
    plan_release,
    plan_reserve,
    plan_write_off,
)
from engine.domain.budget_line import BudgetLineKey, period_kind
from engine.domain.errors import BudgetInsufficient, CurrencyMismatch, InvalidAmount, ReservationClosed
from engine.domain.idempotency import fingerprint
from engine.domain.money import Money, to_decimal

D = Decimal


def line(budget="1000", reserved="0", consumed="0", mode=ControlMode.FORBID, tol="0") -> LineState:
    return LineState(1, "2026/ORG:X/TRAVEL", "CNY", mode, D(tol), D(budget), D(reserved), D(consumed))


def res(amount="100", consumed="0", released="0", status=ReservationStatus.OPEN) -> ReservationState:
    return ReservationState(7, 1, "CNY", D(amount), D(consumed), D(released), status)


def test_money_refuses_floats_and_junk():
    with pytest.raises(InvalidAmount, match="float"):
        Money(1.5, "CNY")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount, match="not a number"):
        to_decimal("12,a")
    with pytest.raises(InvalidAmount, match="decimal places"):
        to_decimal("0.00001")
    with pytest.raises(InvalidAmount, match="ISO 4217"):
        Money.of("1", "yuan")


def test_money_of_different_currencies_does_not_add():
    with pytest.raises(CurrencyMismatch):
        Money.of("1", "CNY") + Money.of("1", "USD")


def test_forbid_refuses_beyond_budget_and_names_line_and_amount():
    with pytest.raises(BudgetInsufficient) as err:
        plan_reserve(line(budget="100", reserved="60"), Money.of("50", "CNY"))
    assert "2026/ORG:X/TRAVEL" in str(err.value) and "50.00 CNY" in str(err.value)
    assert "40.00 CNY left" in str(err.value)


def test_forbid_allows_within_tolerance_but_flags_it():
    posting = plan_reserve(line(budget="100", reserved="95", tol="10"), Money.of("10", "CNY"))
    assert posting.over_budget and posting.reserved_delta == D("10")
    with pytest.raises(BudgetInsufficient):
        plan_reserve(line(budget="100", reserved="95", tol="10"), Money.of("16", "CNY"))


def test_warn_allows_and_flags_and_ignore_allows_silently():
    assert plan_reserve(line(budget="10", mode=ControlMode.WARN), Money.of("50", "CNY")).over_budget
    assert not plan_reserve(line(budget="10", mode=ControlMode.IGNORE), Money.of("50", "CNY")).over_budget
    assert not check_spend(line(budget="100", mode=ControlMode.WARN), D("100"), what="x")


def test_reservation_must_be_positive_and_in_the_line_currency():
    with pytest.raises(InvalidAmount, match="positive"):
        plan_reserve(line(), Money.of("-1", "CNY"))
    with pytest.raises(CurrencyMismatch, match="kept in CNY"):
        plan_reserve(line(), Money.of("1", "USD"))


def test_partial_write_off_keeps_the_reservation_open():
    plan = plan_write_off(line(reserved="100"), res(), Money.of("30", "CNY"), close=False)
    assert (plan.from_reservation, plan.excess, plan.released, plan.closes) == (D(30), 0, 0, False)
    assert [p.kind for p in plan.postings] == [EntryKind.CONSUME]


def test_closing_write_off_releases_the_rest_once():
    plan = plan_write_off(line(reserved="100"), res(consumed="30"), Money.of("50", "CNY"), close=True)
    assert (plan.from_reservation, plan.released) == (D(50), D(20))
    assert [p.kind for p in plan.postings] == [EntryKind.CONSUME, EntryKind.RELEASE]


def test_write_off_beyond_the_reservation_books_only_the_excess_after_a_recheck():
    plan = plan_write_off(line(budget="1000", reserved="100"), res(), Money.of("130", "CNY"), close=True)
    assert (plan.from_reservation, plan.excess, plan.released) == (D(100), D(30), D(0))
    excess = plan.postings[1]
    assert excess.reserved_delta == 0 and excess.consumed_delta == D(30)


def test_write_off_excess_is_refused_when_the_line_is_exhausted():
    with pytest.raises(BudgetInsufficient, match="write-off beyond reservation 7"):
        plan_write_off(line(budget="100", reserved="100"), res(), Money.of("101", "CNY"), close=True)


def test_write_off_or_release_after_close_is_refused():
    closed = res(consumed="40", released="60", status=ReservationStatus.CLOSED)
    with pytest.raises(ReservationClosed, match="write-off refused: reservation 7 is already closed"):
        plan_write_off(line(), closed, Money.of("1", "CNY"), close=False)
    with pytest.raises(ReservationClosed, match="release refused"):
        plan_release(closed, label="x")


def test_budget_cut_cannot_go_below_what_is_committed():
    with pytest.raises(BudgetInsufficient, match="already reserved or consumed"):
        plan_budget_change(line(budget="100", reserved="80"), Money.of("-30", "CNY"), EntryKind.ADJUST)
    assert plan_budget_change(line(budget="100", reserved="80"), Money.of("-20", "CNY"), EntryKind.ADJUST)


def test_fingerprint_treats_equal_amounts_alike():
    assert fingerprint("reserve", amount=D("1.0")) == fingerprint("reserve", amount=D("1.00"))
    assert fingerprint("reserve", amount=D("1")) != fingerprint("reserve", amount=D("2"))


@pytest.mark.parametrize(("period", "kind"), [("2026", "year"), ("2026-Q3", "quarter"), ("2026-11", "month")])
def test_periods_are_years_quarters_or_months(period, kind):
    assert period_kind(period) == kind


def test_a_line_key_names_exactly_one_holder():
    assert BudgetLineKey("2026", "TRAVEL", org_unit="SALES").label == "2026/ORG:SALES/TRAVEL"
    with pytest.raises(ValueError, match="exactly one"):
        BudgetLineKey("2026", "TRAVEL", org_unit="SALES", cost_center="CC1")
    with pytest.raises(ValueError, match="period"):
        BudgetLineKey("2026-13", "TRAVEL", org_unit="SALES")
