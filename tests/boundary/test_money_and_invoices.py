"""Issue 7, money and invoice numbers: one spelling each, so nothing is booked in exponent form or paid twice."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.domain.errors import InvalidAmount
from engine.domain.forms import FormInvalid
from engine.domain.identifiers import InvalidIdentifier, canonical_identifier
from engine.domain.money import parse_amount
from engine.domain.posting import Applicant, PostingInvalid, PostingRule, SubjectAccount, build_voucher
from tests.boundary.support import snapshot
from tests.flows.support import APPLICANT, Flow

BAD_AMOUNTS = ["1e3", "1E+3", "１０００", "١٠٠٠", "100.10000000000000000000", "100.001", "+5000", "-4000", "1,000",
               "480_000.00", "4.8E+5", "NaN", "Infinity", "1000 x", "1 000", "0", "0.00", "", ".5", "5.", "0x10",
               "99999999999999999", True, None, [], {}, 1e16, float("nan")]


def claim_form(flow: Flow, lines: list[dict[str, object]]) -> dict[str, object]:
    return {"subject": "TRAVEL", "purpose": "Shanghai trip 上海出差", "currency": "CNY", "period": "2026",
            "lines": lines}


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=[repr(a) for a in BAD_AMOUNTS])
def test_a_claim_amount_has_one_spelling(flow, amount):
    instance = flow.start("expense_claim")
    line = {**flow.lines("1.00")[0], "amount": amount}
    before = snapshot(flow.app)
    with pytest.raises(FormInvalid, match=r"lines\[0\]\.amount"):
        flow.act(instance, claim_form(flow, [line]))
    assert snapshot(flow.app) == before


def test_a_claim_cannot_net_a_negative_line_against_a_positive_one(flow):
    instance = flow.start("expense_claim")
    lines = flow.lines("5000.00", "1.00")
    lines[1]["amount"] = "-4000.00"
    before = snapshot(flow.app)
    with pytest.raises(FormInvalid, match=r"lines\[1\]\.amount: '-4000.00' must be more than zero"):
        flow.act(instance, claim_form(flow, lines))
    assert snapshot(flow.app) == before


@pytest.mark.parametrize("amount", ["1E+3", "1e3", "100.10000000000000000000", "-5", "１０００"])
def test_a_voucher_is_never_built_from_an_amount_in_another_spelling(amount):
    with pytest.raises(PostingInvalid, match="line 1 amount"):
        build_voucher(document_no="EC-1", currency="CNY", lines=[{"subject": "TRAVEL", "amount": amount}],
                      rule=PostingRule("local", "B", "记", "2241", None),
                      subjects={"TRAVEL": SubjectAccount("6601", "none")}, applicant=Applicant("E1", "Zhang", {}))


def test_the_one_money_parser_keeps_the_currencys_places():
    assert parse_amount("1280.5", currency="CNY") == Decimal("1280.50")
    assert parse_amount(1000, currency="JPY") == Decimal("1000")
    assert parse_amount("1.235", currency="KWD") == Decimal("1.235")
    with pytest.raises(InvalidAmount, match="more than 0 decimal place"):
        parse_amount("1000.5", currency="JPY")
    with pytest.raises(InvalidAmount, match="not a three-letter"):
        parse_amount("1", currency="yuan")


SAME_INVOICE = [  # (code, number) spellings of invoice 011002300111-01234567
    ("011002300111", "０１２３４５６７"),  # full-width digits
    ("011002300111", "01234567\u200b"),  # a trailing zero-width space
    ("011002300111", "\ufeff01234567"),  # a byte-order mark pasted in front
    ("011002300111", "0123\u30004567"),  # an ideographic space inside
    ("011002300111", " 01234567 "),  # ordinary spaces around
    ("０１１００２３００１１１", "01234567"),  # the code in full-width
]


@pytest.mark.parametrize(("code", "number"), SAME_INVOICE, ids=["fullwidth", "zwsp", "bom", "ideographic", "spaces",
                                                                "fullwidth-code"])
def test_the_same_invoice_in_another_spelling_is_the_same_invoice(flow, code, number):
    first = flow.claim(lines=[{"subject": "TRAVEL", "amount": "300.00", "tax": "0.00",
                               "invoice_code": "011002300111", "invoice_number": "01234567"}])
    flow.decide(first)
    assert flow.finished(first) == ("complete", "posted")
    second = flow.claim(lines=[{"subject": "TRAVEL", "amount": "300.00", "tax": "0.00", "invoice_code": code,
                                "invoice_number": number}])
    assert flow.inbox(second) == [("fill_claim", "applicant", [APPLICANT])]  # back to the applicant
    assert "already claimed" in flow.task_data(second, "fill_claim")["invoice_problem"]
    assert flow.vouchers(flow.instance(second).business_key) == []


def test_invoice_codes_differing_only_in_case_are_the_same_invoice(flow):
    first = flow.claim(lines=[{"subject": "TRAVEL", "amount": "300.00", "tax": "0.00", "invoice_code": "ab12cd",
                               "invoice_number": "X99"}])
    flow.decide(first)
    second = flow.claim(lines=[{"subject": "TRAVEL", "amount": "300.00", "tax": "0.00", "invoice_code": "AB12CD",
                                "invoice_number": "x99"}])
    assert "already claimed" in flow.task_data(second, "fill_claim")["invoice_problem"]


@pytest.mark.parametrize("text", ["0123\x00", "01\n23", "\ud800", "\ue000abc"])
def test_an_identifier_with_control_or_unassigned_characters_is_refused(text):
    with pytest.raises(InvalidIdentifier, match="invoice_number: character"):
        canonical_identifier(text, field="invoice_number")
