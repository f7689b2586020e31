"""Acceptance 5 (issue 11): reconciliation finds each kind of difference injected into the ERP's book (a voucher
deleted, an amount changed, a duplicate entered by hand, actuals that differ from the budget consumed) and
reports none on a clean book; an ERP that cannot be read is an error, never a clean report."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from connectors.base import ConnectorError
from engine.persistence.types import utcnow


def claims(flow, count: int = 4) -> list[str]:
    numbers = []
    for n in range(count):
        lines = flow.lines(f"{400 + 10 * n}.00", subject="TRAVEL")
        lines.append({**flow.lines("318.00", subject="HOTEL")[0], "tax": "18.00"})  # deductible VAT split off
        instance = flow.claim(lines=lines)
        flow.decide(instance)
        assert flow.finished(instance) == ("complete", "posted")
        numbers.append(flow.instance(instance).business_key)
    return numbers


def window() -> tuple:
    today = utcnow().date()
    return today - timedelta(days=1), today + timedelta(days=1)


def kinds(report: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for difference in report["differences"]:
        found.setdefault(difference["kind"], []).append(difference)
    return found


def test_a_clean_book_reconciles_without_a_difference(erp_flow, erp):
    numbers = claims(erp_flow)
    report = erp_flow.app.reconciler(erp.client()).run(*window())
    assert report["differences"] == []
    assert report["vouchers"] == {"budgetflow": len(numbers), "erp": len(numbers)}
    assert erp_flow.app.erp_vouchers().reconciliations(limit=1)[0]["differences"] == 0


def test_each_injected_difference_is_found(erp_flow, erp):
    deleted, changed, copied, clean = claims(erp_flow)
    book, url = erp.emulator.book, erp.running.url
    number_of = {v.reference: v.voucher_no for v in book.all()}
    book.delete(number_of[deleted])
    requests.post(f"{url}/_emulator/book/{number_of[changed]}/amount", json={"line": 1, "amount": "999.00"},
                  timeout=5).raise_for_status()
    original = book.get(number_of[copied])
    hand_copy = {"reference": "", "posting_date": original.posting_date.isoformat(), "currency": "CNY",
                 "lines": [{"account": x.account, "debit": str(x.debit), "credit": str(x.credit), "memo": x.memo,
                            "dimensions": dict(x.dimensions)} for x in original.lines]}
    requests.post(f"{url}/_emulator/book", json=hand_copy, timeout=5).raise_for_status()
    expense = erp.expense_accounts[3]  # local transport, booked by hand on the claims' cost center
    by_hand = {"reference": "", "posting_date": original.posting_date.isoformat(), "currency": "CNY",
               "lines": [{"account": expense, "debit": "77.00", "dimensions": {"cost_center": "CC-SALES-N"}},
                         {"account": erp.payable_account, "credit": "77.00"}]}
    requests.post(f"{url}/_emulator/book", json=by_hand, timeout=5).raise_for_status()

    found = kinds(erp_flow.app.reconciler(erp.client()).run(*window()))
    assert [d["document_no"] for d in found["missing"]] == [deleted]
    assert [d["document_no"] for d in found["changed"]] == [changed]
    assert [d["document_no"] for d in found["duplicated"]] == [copied]
    actuals = {(d["account"], d["cost_center"]): d for d in found["actuals"]}
    assert (expense, "CC-SALES-N") in actuals, actuals  # the voucher entered by hand
    assert actuals[(expense, "CC-SALES-N")]["found"] == "77.00"
    assert clean not in {d["document_no"] for kind in found.values() for d in kind}


def test_an_erp_that_cannot_be_read_is_an_error_not_a_clean_report(erp_flow, erp):
    claims(erp_flow, 1)
    erp.emulator.erp_faults.update({"down_for": 600}, erp.emulator.clock.now())
    with pytest.raises(ConnectorError) as failed:
        erp_flow.app.reconciler(erp.client()).run(*window())
    assert failed.value.retryable
    assert erp_flow.app.erp_vouchers().reconciliations() == []
