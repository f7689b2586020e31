"""The budget panel: the lines a document touches, its share, what is left after it, and the colour."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.services.budget_panel import _state, budget_panel
from tests.flows.support import APPLICANT, MANAGER, TRAVEL_LINE


def only_line(flow, number, viewer=MANAGER):
    lines = budget_panel(flow.app.reader, number, viewer)
    assert len(lines) == 1, lines
    return lines[0]


def test_a_reserved_application_shows_its_share_already_taken(flow):
    instance = flow.apply("3000")
    line = only_line(flow, flow.instance(instance).business_key)
    balance = flow.balance()
    assert (line.period, line.org_unit, line.subject, line.control_mode) == ("2026", "SALES-N", "TRAVEL", "FORBID")
    assert (line.org_unit_name, line.subject_name, line.currency) == ("华北销售部", "差旅费-城际交通", "CNY")
    assert (line.allocated, line.reserved, line.consumed) == (balance.budget, Decimal("3000.00"), 0)
    assert line.available == balance.available == line.available_after
    assert (line.request_share, line.state) == (Decimal("3000.00"), "ok")


def test_before_any_reservation_the_named_line_shows_what_would_be_left(flow):
    instance = flow.apply("3000")
    flow.decide(instance, "send_back", "Add the hotel")  # released; the applicant fills the form again
    number = flow.instance(instance).business_key
    line = only_line(flow, number, APPLICANT)
    assert flow.reserved() == 0 and line.reserved == 0
    assert line.request_share == Decimal("3000.00")
    assert line.available_after == line.available - Decimal("3000.00")


def test_a_linked_claim_shows_its_application_line_and_only_the_overrun_comes_off(flow):
    application = flow.apply("1000.00")
    flow.decide(application)
    app_no = flow.instance(application).business_key
    claim = flow.claim("1040.00", application_no=app_no)
    line = only_line(flow, flow.instance(claim).business_key)
    assert line.line_id == only_line(flow, app_no, APPLICANT).line_id
    assert line.request_share == Decimal("1040.00")
    assert line.available_after == line.available - Decimal("40.00")


def test_a_document_without_a_subject_yet_has_no_line_and_strangers_get_none(flow):
    instance = flow.start("travel_application")
    number = flow.instance(instance).business_key
    assert budget_panel(flow.app.reader, number, APPLICANT) == []
    assert budget_panel(flow.app.reader, number, "E0018") is None
    assert budget_panel(flow.app.reader, "TA-0000-0", APPLICANT) is None
    assert TRAVEL_LINE.endswith("TRAVEL")


@pytest.mark.parametrize(("mode", "allocated", "after", "state"), [
    ("FORBID", "1000", "-0.01", "over"), ("FORBID", "1000", "50", "warn"), ("FORBID", "1000", "500", "ok"),
    ("WARN", "1000", "-5", "warn"), ("WARN", "1000", "101", "ok"), ("NONE", "1000", "-5", "warn"),
    ("FORBID", "0", "0", "ok")])
def test_state_colours(mode, allocated, after, state):
    assert _state(mode, Decimal(allocated), Decimal(after)) == state
