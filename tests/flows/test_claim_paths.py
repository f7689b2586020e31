"""expense_claim paths of its own: over-run approval, ERP failure and retry, duplicate invoices, and the
whole linked lifecycle application → approvals → claim → write-off → voucher, verified by the CLI."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from engine.services.steps import NotAllowed
from tests.flows.support import APPLICANT, FINANCE, MANAGER, FlakyErp, Flow


def approved_application(flow: Flow, amount: str) -> tuple[str, int]:
    """An approved travel application: its number and its reservation id (what a linked claim quotes)."""
    instance = flow.apply(amount)
    flow.decide(instance)
    assert flow.finished(instance) == ("complete", "approved")
    return flow.instance(instance).business_key, flow.data(instance)["reservation"]["reservation_id"]


def test_linked_claim_above_its_reservation_within_tolerance_needs_finance(flow):
    number, reservation_id = approved_application(flow, "1000.00")
    instance = flow.claim("1040.00", application_no=number)
    manager_view = flow.task_data(instance, "approve_by_manager")
    assert manager_view["need_overrun_approval"] is True
    assert Decimal(manager_view["overrun_check"]["excess"]) == Decimal("40.00")
    assert flow.reserved() == Decimal("1000.00")  # a linked claim reserves nothing of its own
    flow.decide(instance)
    [(bpmn_id, lane, candidates)] = flow.inbox(instance)
    assert (bpmn_id, lane, sorted(candidates)) == ("approve_overrun", "finance", sorted(FINANCE))
    flow.decide(instance, "approve", "Hotel upgrade accepted 同意", user="E0011")
    assert flow.finished(instance) == ("complete", "posted")
    line = flow.balance()
    assert (line.reserved, line.consumed) == (0, Decimal("1040.00"))
    assert flow.reservations(number) == [(Decimal("1000.00"), Decimal("1000.00"), 0, "closed")]
    claim_no = flow.instance(instance).business_key
    assert flow.reservations(claim_no) == []
    assert len(flow.vouchers(claim_no)) == 1


def test_erp_failure_goes_to_finance_who_retries_and_it_posts_once(flow):
    instance = flow.claim("1280.50")
    flow.runner.erp = FlakyErp(flow.runner.erp, failures=1)
    flow.decide(instance)
    assert flow.finished(instance)[0] != "complete"
    [(bpmn_id, lane, candidates)] = flow.inbox(instance)
    assert (bpmn_id, lane, sorted(candidates)) == ("fix_posting", "finance", sorted(FINANCE))
    assert flow.task_data(instance, "fix_posting")["erp_error"]["message"] == "Vendor V-QH0017 is blocked in the ERP"
    assert [j["status"] for j in flow.jobs(instance, "erp/PostVoucher")] == ["failed"]
    consumed = flow.balance().consumed
    assert consumed == Decimal("1280.50")  # written off once, before the post
    flow.act(instance, {"fix_note": "Vendor unblocked 已解冻供应商"}, user="E0012")
    assert flow.finished(instance) == ("complete", "posted")
    claim_no = flow.instance(instance).business_key
    assert flow.vouchers(claim_no) == [flow.data(instance)["voucher"]["voucher_no"]]
    assert [j["status"] for j in flow.jobs(instance, "erp/PostVoucher")] == ["failed", "done"]
    assert flow.balance().consumed == consumed  # the retry posts again; it does not write off again


def test_duplicate_invoice_goes_back_to_the_applicant_until_corrected(flow):
    lines = flow.lines("553.00")
    first = flow.claim(lines=lines)
    first_no = flow.instance(first).business_key
    second = flow.claim(lines=lines)  # the same invoice code + number once more
    assert flow.inbox(second) == [("fill_claim", "applicant", [APPLICANT])]
    form = flow.task_data(second, "fill_claim")
    assert first_no in form["invoice_problem"]
    assert form["invoice_error"]["code"] == "DUPLICATE_INVOICE" and form["lines"] == lines
    assert flow.templates(second) == ["expense_claim_duplicate_invoice"]
    second_no = flow.instance(second).business_key
    assert flow.reservations(second_no) == []  # refused before any budget was touched
    flow.act(second, {"lines": flow.lines("553.00")})  # a corrected invoice
    assert flow.inbox(second) == [("approve_by_manager", "manager", [MANAGER])]
    flow.decide(second)
    assert flow.finished(second) == ("complete", "posted")
    assert len(flow.vouchers(second_no)) == 1
    assert flow.templates(second) == ["expense_claim_duplicate_invoice", "expense_claim_posted"]


def test_linked_lifecycle_from_application_to_posted_voucher_verifies(flow, cli_env):
    number, reservation_id = approved_application(flow, "3000.00")
    assert flow.reserved() == Decimal("3000.00")
    lines = flow.lines("1800.00", "900.00")
    instance = flow.claim(lines=lines, application_no=number)
    assert flow.task_data(instance, "approve_by_manager")["need_overrun_approval"] is False
    flow.decide(instance)
    assert flow.finished(instance) == ("complete", "posted")
    data = flow.data(instance)
    assert (data["outcome"], data["total"], data["own_reservation"]) == ("posted", "2700.00", False)
    assert (Decimal(data["write_off"]["from_reservation"]), Decimal(data["write_off"]["released"])) == (
        Decimal("2700.00"), Decimal("300.00"))
    line = flow.balance()
    assert (line.reserved, line.consumed, line.available) == (0, Decimal("2700.00"), line.budget - 2700)
    assert flow.reservations(number) == [(Decimal("3000.00"), Decimal("2700.00"), Decimal("300.00"), "closed")]
    claim_no = flow.instance(instance).business_key
    assert flow.vouchers(claim_no) == [data["voucher"]["voucher_no"]]
    assert flow.templates(instance) == ["expense_claim_posted"]
    for command in (["ledger", "verify"], ["audit", "verify"]):
        verdict = subprocess.run([sys.executable, "-m", "engine", *command], env=cli_env, capture_output=True,
                                 text=True, check=False)
        assert verdict.returncode == 0, (command, verdict.stdout + verdict.stderr)


def test_linked_claim_beyond_the_line_is_refused_and_leaves_the_application_reservation(flow):
    number, reservation_id = approved_application(flow, "1000.00")
    instance = flow.claim("600000.00", application_no=number)
    assert flow.finished(instance) == ("complete", "budget_refused")
    assert "beyond its reservation" in flow.data(instance)["refuse_reason"]
    assert flow.reservations(number) == [(Decimal("1000.00"), 0, 0, "open")]  # the application's to release
    assert flow.templates(instance) == ["expense_claim_budget_refused"]


def test_overrun_rejected_by_finance_leaves_the_application_reservation(flow):
    number, reservation_id = approved_application(flow, "1000.00")
    instance = flow.claim("1040.00", application_no=number)
    flow.decide(instance)
    flow.decide(instance, "reject", "Hotel above standard 超标准住宿", bpmn_id="approve_overrun")
    assert flow.finished(instance) == ("complete", "rejected")
    assert flow.data(instance)["reject_reason"] == "Hotel above standard 超标准住宿"
    assert flow.reservations(number) == [(Decimal("1000.00"), 0, 0, "open")]
    assert flow.balance().reserved == Decimal("1000.00")


def _drive_to_the_end(flow: Flow, instance: int) -> None:
    """Approve whatever opens next, as its first candidate, until nothing is open."""
    for _ in range(10):
        if not flow.open_tasks(instance):
            return
        flow.decide(instance, bpmn_id=flow.open_tasks(instance)[0]["bpmn_id"])
    raise AssertionError(flow.inbox(instance))


@pytest.mark.parametrize("earlier", ["consumed", "released"])
def test_a_claim_quoting_a_closed_reservation_is_refused_up_front(flow, earlier):
    if earlier == "consumed":
        number, _ = approved_application(flow, "1000.00")
        first = flow.claim("900.00", application_no=number)
        flow.decide(first)
        assert flow.finished(first) == ("complete", "posted")
        refusal = "holds no open reservation"
    else:
        application = flow.apply("1000.00")
        flow.decide(application, "reject", "No trip 不出差")
        number = flow.instance(application).business_key
        refusal = "is not approved"
    assert flow.reservations(number)[0][3] == "closed"
    with pytest.raises(NotAllowed, match=refusal):
        flow.start("expense_claim", application_no=number)
    assert len(flow.reservations(number)) == 1  # nothing booked


def test_a_claim_quoting_an_unknown_application_is_refused(flow):
    with pytest.raises(NotAllowed, match="not an application of E0017"):
        flow.start("expense_claim", application_no="TA-2026-0999")


def test_a_claim_cannot_draw_on_someone_elses_application(flow):
    number, _ = approved_application(flow, "1000.00")
    with pytest.raises(NotAllowed, match=f"{number} is not an application of E0018"):
        flow.start("expense_claim", applicant="E0018", application_no=number)
    assert flow.reservations(number)[0][3] == "open"  # the owner's reservation is untouched


def test_the_invoices_of_a_withdrawn_claim_may_be_claimed_again(flow):
    lines = flow.lines("300.00")
    first = flow.claim(lines=lines)
    flow.withdraw(first)
    assert flow.finished(first) == ("complete", "withdrawn")
    second = flow.claim(lines=lines)
    flow.decide(second)
    assert flow.finished(second) == ("complete", "posted")
