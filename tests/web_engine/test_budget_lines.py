"""Budget lines for people: who sees which, a line's entries newest first, transfers by budget admins."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.domain.errors import CurrencyMismatch, UnknownBudgetLine
from engine.domain.money import Money
from engine.services import accounts
from engine.services.budget_lines import line_entries, transfer_between, visible_lines
from engine.services.steps import NotAllowed
from tests.flows.support import APPLICANT


def who(app, code):
    return accounts.principal(app.reader, code)


def line_id(app, key):
    return next(r.line_id for r in visible_lines(app.reader, who(app, "E0013"), limit=200) if r.line_key == key)


def test_overseers_see_every_line_managers_their_units_others_none(company):
    everything = visible_lines(company.reader, who(company, "E0013"), limit=200)  # budget admin
    assert len(everything) == 35 and [r.line_key for r in everything] == sorted(r.line_key for r in everything)
    assert len(visible_lines(company.reader, who(company, "E0014"), limit=200)) == 35  # auditor
    north = visible_lines(company.reader, who(company, "E0005"), limit=200)  # manager of SALES-N
    assert {r.org_unit for r in north} == {"SALES-N"} and len(north) == 9
    division = visible_lines(company.reader, who(company, "E0002"), limit=200)  # head of DIV-SALES
    assert {r.org_unit for r in division} == {"SALES-N", "SALES-E", "DIV-SALES"} and len(division) == 18
    assert {r.cost_center for r in division if r.org_unit == "DIV-SALES"} == {"CC-EXPO"}
    assert list(visible_lines(company.reader, who(company, APPLICANT))) == []
    assert list(visible_lines(company.reader, who(company, "E0005"), org_unit="SALES-E")) == []


def test_lines_carry_balances_names_and_utilisation(flow):
    flow.apply("48000")  # 10 % of SALES-N TRAVEL
    [row] = [r for r in visible_lines(flow.app.reader, who(flow.app, "E0005"), subject="TRAVEL", period="2026")]
    assert (row.org_unit_name, row.subject_name, row.control_mode) == ("华北销售部", "差旅费-城际交通", "FORBID")
    assert (row.allocated, row.reserved, row.consumed) == (Decimal("480000.00"), Decimal("48000.00"), 0)
    assert row.available == Decimal("432000.00") and row.utilisation == Decimal("0.1")


def test_paging_lines_by_key(company):
    admin = who(company, "E0013")
    seen, cursor = [], None
    while True:
        page = visible_lines(company.reader, admin, limit=7, cursor=cursor)
        seen += [r.line_key for r in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [r.line_key for r in visible_lines(company.reader, admin, limit=200)]
    with pytest.raises(ValueError, match="cursor"):
        visible_lines(company.reader, admin, cursor="???")
    with pytest.raises(ValueError, match="another view"):
        visible_lines(company.reader, admin, period="2026", cursor=visible_lines(company.reader, admin,
                                                                                  limit=3).next_cursor)


def test_entries_newest_first_with_who_booked_them(flow):
    instance = flow.apply("3000")
    flow.decide(instance, "reject", "Not now")
    travel = line_id(flow.app, "2026/ORG:SALES-N/TRAVEL")
    hotel = line_id(flow.app, "2026/ORG:SALES-N/HOTEL")
    admin = who(flow.app, "E0013")
    transfer_between(flow.app.uow, by=admin, from_line=hotel, to_line=travel, amount=Money.of("500.00", "CNY"),
                     memo="Q3 reallocation", key="transfer-1")
    page = line_entries(flow.app.reader, who(flow.app, "E0005"), travel)
    kinds = [(e.kind, e.actor) for e in page.rows]
    assert kinds == [("ADJUST", "E0013"), ("RELEASE", "engine"), ("RESERVE", "engine"), ("ALLOCATE", None)]
    assert page.rows[0].memo == "Q3 reallocation" and page.rows[2].document_no == flow.instance(instance).business_key
    first = line_entries(flow.app.reader, admin, travel, limit=3)
    rest = line_entries(flow.app.reader, admin, travel, limit=3, cursor=first.next_cursor)
    assert [e.id for e in first.rows + rest.rows] == [e.id for e in page.rows] and rest.next_cursor is None
    assert line_entries(flow.app.reader, who(flow.app, "E0006"), travel) is None  # another unit's manager
    assert line_entries(flow.app.reader, admin, 99999) is None


def test_transfers_are_for_budget_admins_in_one_currency_and_once_per_key(company):
    travel = line_id(company, "2026/ORG:SALES-N/TRAVEL")
    hotel = line_id(company, "2026/ORG:SALES-N/HOTEL")
    usd = line_id(company, "2026/ORG:SALES-E/TRAVEL/PRJ:CES2026")
    cny = Money.of("1000.00", "CNY")
    with pytest.raises(NotAllowed, match="budget admin"):
        transfer_between(company.uow, by=who(company, "E0009"), from_line=travel, to_line=hotel, amount=cny,
                         memo="", key="t-1")
    with pytest.raises(CurrencyMismatch, match="kept in CNY and line .* in USD"):
        transfer_between(company.uow, by=who(company, "E0013"), from_line=travel, to_line=usd, amount=cny, memo="",
                         key="t-2")
    with pytest.raises(UnknownBudgetLine):
        transfer_between(company.uow, by=who(company, "E0013"), from_line=travel, to_line=424242, amount=cny,
                         memo="", key="t-3")
    for _ in range(2):
        first, second = transfer_between(company.uow, by=who(company, "E0013"), from_line=travel, to_line=hotel,
                                         amount=cny, memo="move", key="t-4")
    assert (first.budget_after, second.budget_after) == (Decimal("479000.00"), Decimal("361000.00"))
    assert second.replayed
    lines = {r.line_id: r for r in visible_lines(company.reader, who(company, "E0013"), limit=200)}
    assert (lines[travel].allocated, lines[hotel].allocated) == (Decimal("479000.00"), Decimal("361000.00"))
