"""Acceptance 1 (issue 11): over random claims, every voucher balances and books on the configured accounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.domain.posting import (
    DEDUCTIBLE,
    Applicant,
    PostingInvalid,
    PostingRule,
    SubjectAccount,
    build_voucher,
    input_vat_by_account,
)

CHARTS = {  # erp -> (subject -> account, payable, VAT input)
    "kingdee": ({"TRAVEL": "6602.01", "HOTEL": "6602.02", "MEALS": "6602.03", "OFFICE": "6602.05"}, "2241",
                "2221.01.01"),
    "yonyou_u8": ({"TRAVEL": "660201", "HOTEL": "660202", "MEALS": "660203", "OFFICE": "660205"}, "2241", "22210101"),
    "yonbip": ({"TRAVEL": "660201", "HOTEL": "660202", "MEALS": "660203", "OFFICE": "660205"}, "2241", "22210101"),
    "sap": ({"TRAVEL": "6602010000", "HOTEL": "6602020000", "MEALS": "6602030000", "OFFICE": "6602050000"},
            "2241000000", "2221010100"),
}
TREATMENTS = {"TRAVEL": "passenger_transport", "HOTEL": "deductible", "MEALS": "non_deductible", "OFFICE": "none"}
CURRENCIES = {"CNY": 2, "JPY": 0, "KWD": 3}
APPLICANT = Applicant("E0017", "赵敏", {"department": "SALES-N", "cost_center": "CC-SALES-N", "employee": "QH0017",
                                      "vendor": "V-QH0017"})


@st.composite
def claims(draw: st.DrawFn) -> tuple[str, str, list[dict[str, str]]]:
    erp = draw(st.sampled_from(sorted(CHARTS)))
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    places = CURRENCIES[currency]
    quantum = Decimal(1).scaleb(-places)
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        minor = draw(st.integers(1, 10**9))
        amount = (Decimal(minor) * quantum)
        tax = (Decimal(draw(st.integers(0, minor))) * quantum)
        lines.append({"subject": draw(st.sampled_from(sorted(TREATMENTS))), "amount": str(amount), "tax": str(tax)})
    return erp, currency, lines


def rule_for(erp: str, currency: str) -> PostingRule:
    _accounts, payable, vat = CHARTS[erp]
    return PostingRule(erp, "BOOK", "记", payable, vat, book_currency=currency)


def subjects_for(erp: str) -> dict[str, SubjectAccount]:
    return {code: SubjectAccount(account, TREATMENTS[code], code) for code, account in CHARTS[erp][0].items()}


@settings(max_examples=300, deadline=None)
@given(claims())
def test_every_voucher_balances_and_books_on_the_configured_accounts(claim):
    erp, currency, lines = claim
    rule, subjects = rule_for(erp, currency), subjects_for(erp)
    draft = build_voucher(document_no="EC-2026-000001", currency=currency, lines=lines, rule=rule, subjects=subjects,
                          applicant=APPLICANT, minor_units=CURRENCIES[currency])
    assert draft.is_balanced()
    assert all((x.debit == 0) != (x.credit == 0) for x in draft.lines), "one side per line, never both or none"
    assert all(x.debit >= 0 and x.credit >= 0 for x in draft.lines)
    places = CURRENCIES[currency]
    assert all(-(x.debit + x.credit).as_tuple().exponent <= places for x in draft.lines)
    claimed = sum((Decimal(x["amount"]) for x in lines), Decimal(0))
    assert draft.total == claimed, "the voucher books what was claimed, VAT included"
    allowed = set(CHARTS[erp][0].values()) | {rule.payable_account, rule.vat_input_account}
    assert {x.account for x in draft.lines} <= allowed
    deductible = sum((Decimal(x["tax"]) for x in lines if TREATMENTS[x["subject"]] in DEDUCTIBLE), Decimal(0))
    vat_booked = sum((x.debit for x in draft.lines if x.account == rule.vat_input_account), Decimal(0))
    assert vat_booked == deductible
    assert sum(input_vat_by_account(lines, subjects, rule).values(), Decimal(0)) == deductible
    for code in {x["subject"] for x in lines}:  # each subject's expense is its amount less deductible VAT
        account = CHARTS[erp][0][code]
        expected = sum((Decimal(x["amount"]) - (Decimal(x["tax"]) if TREATMENTS[code] in DEDUCTIBLE else 0)
                        for x in lines if x["subject"] == code), Decimal(0))
        assert sum((x.debit for x in draft.lines if x.account == account), Decimal(0)) == expected
    payable = [x for x in draft.lines if x.account == rule.payable_account]
    assert len(payable) == 1 and payable[0].dimension("employee") == "QH0017"


def test_a_subject_without_an_account_is_named_and_nothing_is_built():
    subjects = subjects_for("sap") | {"TRAINING": SubjectAccount(None, "none", "培训费")}
    with pytest.raises(PostingInvalid) as refused:
        build_voucher(document_no="EC-1", currency="CNY", rule=rule_for("sap", "CNY"), subjects=subjects,
                      applicant=APPLICANT, lines=[{"subject": "HOTEL", "amount": "100.00", "tax": "6.00"},
                                                  {"subject": "TRAINING", "amount": "50.00", "tax": "0"}])
    assert refused.value.errors == [{"field": "subject", "line": 2, "message": "expense subject 'TRAINING' has no GL "
                                     "account for sap: set gl_sap in expense_subjects.csv"}]


def test_vat_to_deduct_without_a_vat_account_is_refused():
    rule = PostingRule("kingdee", "100", "PRE001", "2241", None)
    with pytest.raises(PostingInvalid, match="vat_input_account"):
        build_voucher(document_no="EC-1", currency="CNY", rule=rule, subjects=subjects_for("kingdee"),
                      applicant=APPLICANT, lines=[{"subject": "HOTEL", "amount": "106.00", "tax": "6.00"}])


def test_a_claim_in_another_currency_than_the_book_is_refused_not_converted_silently():
    with pytest.raises(PostingInvalid, match="in USD"):
        build_voucher(document_no="EC-1", currency="USD", rule=rule_for("kingdee", "CNY"),
                      subjects=subjects_for("kingdee"), applicant=APPLICANT,
                      lines=[{"subject": "OFFICE", "amount": "10.00", "tax": "0"}])
