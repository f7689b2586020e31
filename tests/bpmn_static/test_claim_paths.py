"""expense_claim run in memory along every path, saved and restored at every wait state."""

from __future__ import annotations

from tests.bpmn_static.harness import Run, Stub
from tests.bpmn_static.paths_support import CLAIM, LINES, assert_json_safe, claim


def test_standalone_claim_reserves_writes_off_and_posts(restricted):
    run = claim(restricted)
    assert run.inbox() == [("approve_by_manager", "manager", None)]
    assert run.task("approve_by_manager").data["total"] == "1833.50"
    run.decide("approve_by_manager", "approve")
    assert run.data["outcome"] == "posted"
    assert run.data["voucher"] == {"voucher_no": "V-EC-2026-0001"}
    assert run.stub.called("budget/ReserveClaim")[0]["amount"] == "1833.50"
    assert run.stub.called("budget/WriteOff") == [{"document_no": "EC-2026-0001",
                                                   "reservation_id": "RSV-EC-2026-0001", "amount": "1833.50",
                                                   "currency": "CNY", "close": True}]
    assert run.stub.called("erp/PostVoucher")[0]["total"] == "1833.50"
    assert [op for op, _ in run.stub.calls] == ["claims/CheckInvoices", "budget/ReserveClaim", "budget/WriteOff",
                                                "erp/PostVoucher", "notify/Send"]
    assert run.stub.templates() == ["expense_claim_posted"]
    assert_json_safe(run.data)


def test_linked_claim_uses_the_application_reservation(restricted):
    run = claim(restricted, linked=True)
    run.decide("approve_by_manager", "approve")
    assert run.data["outcome"] == "posted"
    assert run.stub.called("budget/ReserveClaim") == []
    assert run.stub.called("budget/CheckOverrun")[0]["reservation_id"] == "RSV-TA-2026-0001"
    assert run.stub.called("budget/WriteOff")[0]["reservation_id"] == "RSV-TA-2026-0001"
    assert "approve_overrun" not in run.seen


def test_linked_claim_overrun_within_tolerance_needs_finance(restricted):
    stub = Stub()
    stub.answer("budget/CheckOverrun", overrun=True, excess="83.50", within_tolerance=True)
    run = claim(restricted, stub, linked=True)
    run.decide("approve_by_manager", "approve")
    assert run.inbox() == [("approve_overrun", "finance", None)]
    assert run.task("approve_overrun").data["overrun_check"]["excess"] == "83.50"
    run.decide("approve_overrun", "approve")
    assert run.data["outcome"] == "posted"


def test_overrun_rejected_by_finance_leaves_the_application_reservation(restricted):
    stub = Stub()
    stub.answer("budget/CheckOverrun", overrun=True, excess="83.50", within_tolerance=True)
    run = claim(restricted, stub, linked=True)
    run.decide("approve_by_manager", "approve")
    run.decide("approve_overrun", "reject", "Hotel above standard 超标准住宿")
    assert run.data["outcome"] == "rejected" and run.data["reject_reason"] == "Hotel above standard 超标准住宿"
    assert run.stub.called("budget/Release") == []  # the application's reservation is not the claim's to free
    assert run.stub.templates() == ["expense_claim_rejected"]


def test_overrun_sent_back_and_withdrawn(restricted):
    stub = Stub()
    stub.answer("budget/CheckOverrun", overrun=True, excess="83.50", within_tolerance=True)
    run = claim(restricted, stub, linked=True)
    run.decide("approve_by_manager", "approve")
    run.fire_timer("remind_overrun")
    run.fire_timer("overdue_overrun")
    assert run.stub.templates() == ["approval_reminder", "approval_overdue"]
    run.decide("approve_overrun", "send_back", "Attach the hotel folio 请补充住宿水单")
    assert run.inbox() == [("fill_claim", "applicant", None)]
    assert run.task("fill_claim").data["lines"] == LINES
    run.complete("fill_claim")
    run.decide("approve_by_manager", "approve")
    run.send("withdraw")
    assert run.data["outcome"] == "withdrawn"
    assert run.stub.called("budget/Release") == []


def test_overrun_beyond_tolerance_is_refused(restricted):
    stub = Stub()
    stub.fail("budget/CheckOverrun", "BUDGET_INSUFFICIENT", "Claim exceeds the reservation by 900.00 (tolerance 5%)")
    run = claim(restricted, stub, linked=True)
    assert run.data["outcome"] == "budget_refused"
    assert run.data["refuse_reason"].startswith("Claim exceeds")
    assert run.stub.called("budget/Release") == []


def test_standalone_claim_refused_at_reservation(restricted):
    stub = Stub()
    stub.fail("budget/ReserveClaim", "BUDGET_INSUFFICIENT", "HOTEL 2026 SALES-N exhausted")
    run = claim(restricted, stub)
    assert run.data["outcome"] == "budget_refused" and run.stub.called("budget/Release") == []
    assert run.stub.templates() == ["expense_claim_budget_refused"]


def test_write_off_refused_releases_the_claims_own_reservation(restricted):
    stub = Stub()
    stub.fail("budget/WriteOff", "BUDGET_INSUFFICIENT", "Period 2026 closed for SALES-N")
    run = claim(restricted, stub)
    run.decide("approve_by_manager", "approve")
    assert run.data["outcome"] == "budget_refused"
    assert run.stub.called("budget/Release") == [{"document_no": "EC-2026-0001",
                                                  "reservation_id": "RSV-EC-2026-0001", "reason": "budget_refused"}]
    assert run.stub.called("erp/PostVoucher") == []


def test_standalone_claim_rejected_and_withdrawn_release_their_reservation(restricted):
    run = claim(restricted)
    run.decide("approve_by_manager", "reject", "Duplicate trip 重复行程")
    assert run.data["outcome"] == "rejected"
    assert run.stub.called("budget/Release")[0]["reason"] == "rejected"
    run = claim(restricted)
    run.send("withdraw")
    assert run.data["outcome"] == "withdrawn"
    assert run.stub.called("budget/Release")[0]["reason"] == "withdrawn"


def test_standalone_claim_send_back_releases_and_reserves_again(restricted):
    run = claim(restricted)
    run.decide("approve_by_manager", "send_back", "Wrong subject 科目错误")
    assert run.stub.called("budget/Release")[0]["reason"] == "send_back"
    data = run.task("fill_claim").data
    assert data["lines"] == LINES and data["subject"] == "TRAVEL"
    run.complete("fill_claim", subject="HOTEL")
    run.decide("approve_by_manager", "approve")
    assert run.data["outcome"] == "posted"
    assert [c["subject"] for c in run.stub.called("budget/ReserveClaim")] == ["TRAVEL", "HOTEL"]
    assert len(run.stub.called("budget/Release")) == 1


def test_erp_failure_goes_to_finance_and_retries(restricted):
    stub = Stub()
    stub.fail("erp/PostVoucher", "ERP_POST_FAILED", "Vendor V-QH0101 is blocked in K3", erp_status=400)
    run = claim(restricted, stub)
    run.decide("approve_by_manager", "approve")
    assert run.inbox() == [("fix_posting", "finance", None)]
    assert run.task("fix_posting").data["erp_error"]["message"] == "Vendor V-QH0101 is blocked in K3"
    run.complete("fix_posting", fix_note="Vendor unblocked 已解冻供应商")
    assert run.data["outcome"] == "posted"
    assert len(run.stub.called("erp/PostVoucher")) == 2
    assert len(run.stub.called("budget/WriteOff")) == 1  # retry re-posts only


def test_duplicate_invoice_goes_back_to_the_applicant(restricted):
    stub = Stub()
    stub.fail("claims/CheckInvoices", "DUPLICATE_INVOICE",
              "Invoice 031002300111/12345678 was already claimed on EC-2026-0007", earlier_claim="EC-2026-0007")
    run = claim(restricted, stub)
    assert run.inbox() == [("fill_claim", "applicant", None)]
    data = run.task("fill_claim").data
    assert data["invoice_problem"].endswith("EC-2026-0007") and data["invoice_error"]["earlier_claim"]
    assert data["lines"] == LINES
    assert run.stub.templates() == ["expense_claim_duplicate_invoice"]
    assert run.stub.called("budget/ReserveClaim") == []
    run.complete("fill_claim", lines=LINES[1:])
    run.decide("approve_by_manager", "approve")
    assert run.data["outcome"] == "posted" and run.data["total"] == "553.00"


def test_big_entertainment_claim_runs_the_whole_chain(restricted):
    lines = [{"subject": "ENTERTAINMENT", "amount": "12500.00", "tax": "0.00", "invoice_code": "1",
              "invoice_number": "88"}, {"subject": "ENTERTAINMENT", "amount": "9000.00", "tax": "0.00",
                                        "invoice_code": "1", "invoice_number": "89"}]
    run = Run("expense_claim", {**CLAIM, "countersigners": ["E0201", "E0202"]}, restricted=restricted)
    run.complete("fill_claim", subject="ENTERTAINMENT", purpose="Dealer dinner 经销商宴请", lines=lines)
    for level in ("approve_by_manager", "approve_by_department_head", "approve_by_finance_director"):
        run.decide(level, "approve")
    run.decide("countersign", "approve", approver="E0202")
    run.decide("countersign", "approve", approver="E0201")
    assert run.data["outcome"] == "posted" and run.data["total"] == "21500.00"
