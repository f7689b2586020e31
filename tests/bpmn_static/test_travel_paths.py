"""travel_application run in memory along every path, saved and restored at every wait state."""

from __future__ import annotations

import pytest

from tests.bpmn_static.harness import Run, Stub
from tests.bpmn_static.paths_support import APPLICATION, COUNTERSIGNERS, assert_json_safe, travel


def test_travel_small_amount_needs_the_manager_only(restricted):
    run = travel(restricted, amount="1280.50")
    assert run.inbox() == [("approve_by_manager", "manager", None)]
    run.decide("approve_by_manager", "approve")
    assert run.data["outcome"] == "approved"
    assert run.seen == ["fill_application", "approve_by_manager"]
    assert run.stub.called("budget/Reserve")[0]["amount"] == "1280.50"
    assert run.stub.templates() == ["travel_application_approved"]
    assert run.stub.called("budget/Release") == []
    assert_json_safe(run.data)
    assert run.restores >= 3


def test_travel_above_5000_adds_the_department_head(restricted):
    run = travel(restricted, amount="8000.00")
    run.decide("approve_by_manager", "approve")
    assert run.inbox() == [("approve_by_department_head", "department_head", None)]
    run.decide("approve_by_department_head", "approve")
    assert run.data["outcome"] == "approved"
    assert run.seen == ["fill_application", "approve_by_manager", "approve_by_department_head"]


def test_travel_above_20000_adds_the_finance_director(restricted):
    run = travel(restricted, amount="25000.00")
    for level in ("approve_by_manager", "approve_by_department_head", "approve_by_finance_director"):
        run.decide(level, "approve")
    assert run.data["outcome"] == "approved"
    assert run.seen[1:] == ["approve_by_manager", "approve_by_department_head", "approve_by_finance_director"]


def test_countersign_all_agree(restricted):
    run = travel(restricted, subject="ENTERTAINMENT", amount="12000.00")
    run.decide("approve_by_manager", "approve")
    run.decide("approve_by_department_head", "approve")
    assert run.inbox() == [("countersign", "countersign", c) for c in COUNTERSIGNERS]
    for approver in reversed(COUNTERSIGNERS):  # completion order must not matter
        run.decide("countersign", "approve", approver=approver)
    assert run.data["outcome"] == "approved"
    votes = {v["approver"]: v["decision"] for v in run.data["countersign_votes"]}
    assert votes == dict.fromkeys(COUNTERSIGNERS, "approve")


def test_countersign_one_veto_rejects(restricted):
    run = travel(restricted, subject="ENTERTAINMENT", amount="12000.00")
    run.decide("approve_by_manager", "approve")
    run.decide("approve_by_department_head", "approve")
    run.decide("countersign", "approve", approver="E0203")
    run.decide("countersign", "reject", "Not a customer event 非客户活动", approver="E0201")
    assert run.inbox() == []  # E0202's task is cancelled
    assert run.data["outcome"] == "rejected"
    assert run.data["reject_reason"] == "Not a customer event 非客户活动"
    assert run.stub.called("budget/Release")[0]["reason"] == "rejected"
    assert run.stub.templates() == ["travel_application_rejected"]


def test_reject_ends_and_releases_the_reservation(restricted):
    run = travel(restricted, amount="8000.00")
    run.decide("approve_by_manager", "approve")
    run.decide("approve_by_department_head", "reject", "No budget this quarter 本季度不安排")
    assert run.data["outcome"] == "rejected"
    assert run.data["reject_reason"] == "No budget this quarter 本季度不安排"
    assert run.stub.called("budget/Release") == [
        {"document_no": "TA-2026-0001", "reservation_id": "RSV-TA-2026-0001", "reason": "rejected"}]


def test_send_back_keeps_the_form_and_resubmits(restricted):
    run = travel(restricted, amount="8000.00", destination="Shanghai 上海")
    run.decide("approve_by_manager", "send_back", "Split hotel and train 请拆分住宿与车票")
    assert run.inbox() == [("fill_application", "applicant", None)]
    form = run.task("fill_application").data
    assert (form["purpose"], form["destination"], form["amount"]) == ("Customer visit 客户拜访", "Shanghai 上海",
                                                                      "8000.00")
    assert form["comment"] == "Split hotel and train 请拆分住宿与车票"
    assert run.stub.called("budget/Release")[0]["reason"] == "send_back"
    run.complete("fill_application", amount="4500.00")
    assert run.inbox() == [("approve_by_manager", "manager", None)]  # 4500 needs the manager only now
    run.decide("approve_by_manager", "approve")
    assert run.data["outcome"] == "approved"
    assert [c["amount"] for c in run.stub.called("budget/Reserve")] == ["8000.00", "4500.00"]
    assert run.stub.templates() == ["travel_application_sent_back", "travel_application_approved"]


def test_withdraw_while_pending_releases_the_reservation(restricted):
    run = travel(restricted, amount="8000.00")
    run.decide("approve_by_manager", "approve")
    run.send("withdraw", reason="Trip cancelled 行程取消")
    assert run.inbox() == [] and run.waiting_timers() == []
    assert run.data["outcome"] == "withdrawn"
    assert run.data["withdraw_request"] == {"reason": "Trip cancelled 行程取消"}
    assert run.stub.called("budget/Release")[0]["reason"] == "withdrawn"
    assert run.stub.templates() == ["travel_application_withdrawn"]


def test_withdraw_during_countersign(restricted):
    run = travel(restricted, subject="ENTERTAINMENT", amount="12000.00")
    run.decide("approve_by_manager", "approve")
    run.decide("approve_by_department_head", "approve")
    run.decide("countersign", "approve", approver="E0202")
    run.send("withdraw")
    assert run.data["outcome"] == "withdrawn" and run.inbox() == []


def test_budget_forbid_stops_and_tells_the_applicant(restricted):
    stub = Stub()
    stub.fail("budget/Reserve", "BUDGET_INSUFFICIENT", "TRAVEL 2026 SALES-N: 300.00 left, 8000.00 asked")
    run = travel(restricted, stub, amount="8000.00")
    assert run.data["outcome"] == "budget_refused"
    assert run.data["refuse_reason"] == "TRAVEL 2026 SALES-N: 300.00 left, 8000.00 asked"
    assert run.data["budget_error"]["code"] == "BUDGET_INSUFFICIENT"
    assert run.seen == ["fill_application"]
    assert run.stub.templates() == ["travel_application_budget_refused"]


def test_budget_warn_flag_is_shown_to_approvers(restricted):
    stub = Stub()
    stub.answer("budget/Reserve", over_budget=True, available_after="-500.00")
    run = travel(restricted, stub, amount="8000.00")
    assert run.task("approve_by_manager").data["budget_warning"] is True
    run.decide("approve_by_manager", "approve")
    assert run.task("approve_by_department_head").data["budget_warning"] is True
    run.decide("approve_by_department_head", "approve")
    assert run.data["outcome"] == "approved"


def test_reminder_notifies_and_keeps_the_task(restricted):
    run = travel(restricted, amount="1280.50")
    assert run.waiting_timers() == ["escalate_manager", "remind_manager"]
    run.fire_timer("remind_manager")
    run.fire_timer("remind_manager")
    assert run.inbox() == [("approve_by_manager", "manager", None)]
    assert run.stub.called("notify/Send")[0] == {"to": "lane:manager", "template": "approval_reminder",
                                                 "document_no": "TA-2026-0001", "overdue": ""}
    run.decide("approve_by_manager", "approve")
    assert run.data["outcome"] == "approved" and run.waiting_timers() == []
    assert run.stub.templates() == ["approval_reminder", "approval_reminder", "travel_application_approved"]


def test_manager_sla_escalates_to_the_department_head(restricted):
    run = travel(restricted, amount="1280.50")  # small: normally the manager alone
    run.fire_timer("escalate_manager")
    assert run.inbox() == [("approve_by_department_head", "department_head", None)]
    run.fire_timer("escalate_department_head")
    assert run.inbox() == [("approve_by_finance_director", "finance_director", None)]
    run.decide("approve_by_finance_director", "approve")
    assert run.data["outcome"] == "approved"


def test_finance_director_sla_alerts_admin_and_reopens(restricted):
    run = travel(restricted, amount="25000.00")
    run.decide("approve_by_manager", "approve")
    run.decide("approve_by_department_head", "approve")
    first = run.task("approve_by_finance_director").id
    run.fire_timer("overdue_finance_director")
    assert run.stub.called("notify/Send")[-1]["to"] == "role:admin"
    assert run.task("approve_by_finance_director").id != first
    run.decide("approve_by_finance_director", "approve")
    assert run.data["outcome"] == "approved"


def test_countersign_sla_lets_the_finance_director_decide(restricted):
    run = travel(restricted, subject="ENTERTAINMENT", amount="12000.00")
    run.decide("approve_by_manager", "approve")
    run.decide("approve_by_department_head", "approve")
    run.decide("countersign", "approve", approver="E0201")
    run.fire_timer("escalate_countersign")
    assert run.inbox() == [("approve_by_finance_director", "finance_director", None)]
    run.decide("approve_by_finance_director", "approve")
    assert run.data["outcome"] == "approved"  # no second countersign round


@pytest.mark.parametrize("countersigners", [[], None], ids=["empty", "missing"])
def test_countersign_with_nobody_named_goes_to_the_finance_director(restricted, countersigners):
    data = {**APPLICATION, **({} if countersigners is None else {"countersigners": countersigners})}
    run = Run("travel_application", data, restricted=restricted)
    run.complete("fill_application", subject="ENTERTAINMENT", purpose="Dealer dinner 经销商宴请", amount="12000.00")
    run.decide("approve_by_manager", "approve")
    run.decide("approve_by_department_head", "approve")
    assert run.inbox() == [("approve_by_finance_director", "finance_director", None)]
    run.decide("approve_by_finance_director", "approve")
    assert run.data["outcome"] == "approved" and "countersign" not in run.seen


REMINDER_LEVELS = [  # amount that reaches the task, the task, its reminder timer, its lane
    ("1280.50", "approve_by_manager", "remind_manager", "manager"),
    ("8000.00", "approve_by_department_head", "remind_department_head", "department_head"),
    ("25000.00", "approve_by_finance_director", "remind_finance_director", "finance_director"),
    ("12000.00", "countersign", "remind_countersign", "countersign"),
]


@pytest.mark.parametrize(("amount", "task", "timer", "lane"), REMINDER_LEVELS, ids=[r[1] for r in REMINDER_LEVELS])
def test_every_level_reminds_its_lane(restricted, amount, task, timer, lane):
    run = travel(restricted, amount=amount, subject="ENTERTAINMENT" if task == "countersign" else "TRAVEL")
    while task not in {t for t, _lane, _a in run.inbox()}:
        run.decide(run.inbox()[0][0], "approve")
    before = run.inbox()
    run.fire_timer(timer)
    assert run.inbox() == before
    assert run.stub.called("notify/Send")[-1] == {"to": f"lane:{lane}", "template": "approval_reminder",
                                                  "document_no": "TA-2026-0001", "overdue": ""}


def test_lane_owners_and_initial_data_pass_through(restricted):
    run = Run("travel_application", {**APPLICATION, "lane_owners": {"manager": ["E0009"]}}, restricted=restricted)
    run.complete("fill_application", subject="TRAVEL", purpose="x", amount="100.00")
    assert run.task("approve_by_manager").data["lane_owners"] == {"manager": ["E0009"]}
