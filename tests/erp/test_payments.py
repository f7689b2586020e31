"""Payment status read back from the ERP: a claim whose payable the ERP shows paid is marked paid, once, and its
applicant told; a claim not yet paid stays as it is."""

from __future__ import annotations

import requests

from tests.flows.support import APPLICANT


def posted_claims(flow, count: int) -> list[str]:
    numbers = []
    for n in range(count):
        instance = flow.claim(f"{600 + n}.00")
        flow.decide(instance)
        assert flow.finished(instance) == ("complete", "posted")
        numbers.append(flow.instance(instance).business_key)
    return numbers


def test_a_paid_voucher_marks_its_claim_paid_and_tells_the_applicant_once(erp_flow, erp):
    paid, unpaid = posted_claims(erp_flow, 2)
    app, runner = erp_flow.app, erp_flow.runner
    sync = app.payment_sync(runner)
    assert sync.run() == 0, "nothing is paid yet"
    voucher = next(v for v in erp.emulator.book.all() if v.reference == paid)
    requests.post(f"{erp.running.url}/_emulator/book/{voucher.voucher_no}/pay", json={"paid_on": "2026-12-05"},
                  timeout=5).raise_for_status()
    sent_before = len(runner.sent)
    assert sync.run() == 1
    vouchers = app.erp_vouchers()
    assert str(vouchers.of_document(paid).paid_on) == "2026-12-05"
    assert vouchers.of_document(unpaid).paid_on is None
    told = runner.sent[sent_before:]
    assert [(x["to"], x["template"]) for x in told] == [(APPLICANT, "expense_claim_paid")]
    assert sync.run() == 0 and len(runner.sent) == sent_before + 1, "told once, marked once"
