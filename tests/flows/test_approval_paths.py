"""Every approval path of travel_application and expense_claim, on the real engine and database.

Approve at each level, reject, send back and resubmit, withdraw, countersign veto, FORBID and WARN budget
control. Amounts route through the real DMN (> 5,000 department head, > 20,000 finance director,
ENTERTAINMENT > 10,000 countersign); budgets are the demo company's FY2026 lines of SALES-N.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.services.steps import NotAllowed
from tests.flows.support import (
    APPLICANT,
    COUNTERSIGNERS,
    DEPARTMENT_HEAD,
    FINANCE_DIRECTOR,
    MANAGER,
    TRAVEL_LINE,
    Flow,
    line_key,
)

PROCESSES = ["travel_application", "expense_claim"]
MANAGER_TASK = ("approve_by_manager", "manager", [MANAGER])
DEPARTMENT_HEAD_TASK = ("approve_by_department_head", "department_head", [DEPARTMENT_HEAD])
FINANCE_DIRECTOR_TASK = ("approve_by_finance_director", "finance_director", [FINANCE_DIRECTOR])
LEVELS = [  # amount -> the approvals it needs, in order
    ("1280.50", [MANAGER_TASK]),
    ("8000.00", [MANAGER_TASK, DEPARTMENT_HEAD_TASK]),
    ("25000.00", [MANAGER_TASK, DEPARTMENT_HEAD_TASK, FINANCE_DIRECTOR_TASK]),
]


def submit(flow: Flow, process_id: str, amount: str, subject: str = "TRAVEL") -> int:
    if process_id == "travel_application":
        return flow.apply(amount, subject)
    return flow.claim(amount, subject=subject)


def document(flow: Flow, instance: int) -> str:
    return flow.instance(instance).business_key


@pytest.mark.parametrize("process_id", PROCESSES)
@pytest.mark.parametrize(("amount", "chain"), LEVELS, ids=["manager", "department_head", "finance_director"])
def test_approve_needs_exactly_the_levels_of_its_amount(flow, process_id, amount, chain):
    instance = submit(flow, process_id, amount)
    assert flow.reserved() == Decimal(amount)  # reserved at submission, before any approval
    for level in chain:
        assert flow.inbox(instance) == [level]
        flow.decide(instance, "approve", "ok 同意")
    assert flow.inbox(instance) == []
    assert flow.opened(instance) == [level[0] for level in chain]  # each approver was notified once
    number = document(flow, instance)
    if process_id == "travel_application":
        assert flow.finished(instance) == ("complete", "approved")
        assert flow.reserved() == Decimal(amount)  # an approved application keeps its reservation
        assert flow.templates(instance) == ["travel_application_approved"]
    else:
        assert flow.finished(instance) == ("complete", "posted")
        line = flow.balance()
        assert (line.reserved, line.consumed) == (0, Decimal(amount))
        assert len(flow.vouchers(number)) == 1
        assert flow.templates(instance) == ["expense_claim_posted"]
    assert flow.restores >= 2 * len(chain) + 2


@pytest.mark.parametrize("process_id", PROCESSES)
def test_reject_ends_rejected_and_releases_the_reservation(flow, process_id):
    instance = submit(flow, process_id, "8000.00")
    flow.decide(instance, "approve")
    assert flow.reserved() == Decimal("8000.00")
    flow.decide(instance, "reject", "No budget this quarter 本季度不安排")
    assert flow.finished(instance) == ("complete", "rejected")
    assert flow.data(instance)["reject_reason"] == "No budget this quarter 本季度不安排"
    line = flow.balance()
    assert (line.reserved, line.consumed, line.available) == (0, 0, line.budget)
    assert flow.reservations(document(flow, instance)) == [(Decimal("8000.00"), 0, Decimal("8000.00"), "closed")]
    assert flow.templates(instance) == [f"{process_id}_rejected"]
    assert flow.inbox(instance) == []


def test_travel_send_back_keeps_the_form_and_reserves_again_on_resubmission(flow):
    instance = flow.apply("8000.00", destination="Shanghai 上海")
    flow.decide(instance, "send_back", "Split hotel and train 请拆分住宿与车票")
    assert flow.reserved() == 0  # released for the rework
    assert flow.inbox(instance) == [("fill_application", "applicant", [APPLICANT])]
    form = flow.task_data(instance, "fill_application")
    assert (form["purpose"], form["destination"], form["amount"], form["subject"]) == (
        "Customer visit 客户拜访", "Shanghai 上海", "8000.00", "TRAVEL")
    assert (form["decision"], form["comment"]) == ("send_back", "Split hotel and train 请拆分住宿与车票")
    flow.act(instance, {"amount": "4500.00"})  # change one field, keep the rest
    assert flow.reserved() == Decimal("4500.00")
    assert flow.inbox(instance) == [MANAGER_TASK]  # 4,500 needs the manager only now
    assert flow.task_data(instance, "approve_by_manager")["destination"] == "Shanghai 上海"
    flow.decide(instance, "approve")
    assert flow.finished(instance) == ("complete", "approved")
    number = document(flow, instance)
    assert flow.reservations(number) == [(Decimal("8000.00"), 0, Decimal("8000.00"), "closed"),
                                         (Decimal("4500.00"), 0, 0, "open")]
    assert flow.templates(instance) == ["travel_application_sent_back", "travel_application_approved"]


def test_claim_send_back_keeps_the_lines_and_reserves_again_on_resubmission(flow):
    lines = flow.lines("1280.50", "553.00")
    instance = flow.claim(lines=lines)
    assert flow.reserved() == Decimal("1833.50")
    flow.decide(instance, "send_back", "Wrong purpose 事由不清")
    assert flow.reserved() == 0
    assert flow.inbox(instance) == [("fill_claim", "applicant", [APPLICANT])]
    form = flow.task_data(instance, "fill_claim")
    assert form["lines"] == lines and form["purpose"] == "Shanghai trip 上海出差"
    flow.act(instance, {"purpose": "Shanghai customer trip 上海客户拜访"})
    assert flow.reserved() == Decimal("1833.50")
    flow.decide(instance, "approve")
    assert flow.finished(instance) == ("complete", "posted")
    line = flow.balance()
    assert (line.reserved, line.consumed) == (0, Decimal("1833.50"))
    assert flow.data(instance)["purpose"] == "Shanghai customer trip 上海客户拜访"
    assert flow.templates(instance) == ["expense_claim_sent_back", "expense_claim_posted"]


@pytest.mark.parametrize("process_id", PROCESSES)
def test_only_the_applicant_withdraws_while_pending_and_it_releases(flow, process_id):
    instance = flow.start(process_id)
    with pytest.raises(NotAllowed, match="not waiting for 'withdraw'"):
        flow.withdraw(instance)  # still being filled in: nothing to withdraw from
    instance = submit(flow, process_id, "8000.00")
    flow.decide(instance, "approve")
    assert flow.inbox(instance) == [DEPARTMENT_HEAD_TASK]
    for someone in (MANAGER, DEPARTMENT_HEAD):
        with pytest.raises(NotAllowed, match="only the applicant"):
            flow.withdraw(instance, user=someone)
    assert flow.reserved() == Decimal("8000.00")
    flow.withdraw(instance, reason="Trip cancelled 行程取消")
    assert flow.finished(instance) == ("complete", "withdrawn")
    assert flow.inbox(instance) == [] and flow.waiting_timers(instance) == []
    assert flow.data(instance)["withdraw_request"] == {"reason": "Trip cancelled 行程取消", "by": APPLICANT}
    assert flow.reserved() == 0
    assert flow.templates(instance) == [f"{process_id}_withdrawn"]
    with pytest.raises(NotAllowed):
        flow.withdraw(instance)  # a finished request cannot be withdrawn twice


@pytest.mark.parametrize("process_id", PROCESSES)
def test_countersign_one_veto_ends_it(flow, process_id):
    instance = submit(flow, process_id, "12000.00", subject="ENTERTAINMENT")
    flow.decide(instance)
    flow.decide(instance)
    inbox = flow.inbox(instance)
    assert {bpmn_id for bpmn_id, _lane, _c in inbox} == {"countersign"}
    assert sorted(c for _b, _l, (c,) in inbox) == sorted(COUNTERSIGNERS)  # one task per countersigner
    # each countersigner's own task opened, and each was told: one notification per task
    assert flow.opened(instance) == ["approve_by_manager", "approve_by_department_head",
                                     *["countersign"] * len(COUNTERSIGNERS)]
    flow.decide(instance, "approve", bpmn_id="countersign", user="E0013")
    flow.decide(instance, "reject", "Not a customer event 非客户活动", bpmn_id="countersign", user="E0011")
    assert flow.inbox(instance) == []  # the two still pending are cancelled
    assert flow.finished(instance) == ("complete", "rejected")
    data = flow.data(instance)
    assert data["reject_reason"] == "Not a customer event 非客户活动"
    assert [(v["approver"], v["decision"]) for v in data["countersign_votes"]] == [("E0013", "approve"),
                                                                                    ("E0011", "reject")]
    assert flow.reserved(line_key("ENTERTAINMENT")) == 0


@pytest.mark.parametrize("process_id", PROCESSES)
def test_forbid_stops_with_budget_refused_and_books_nothing(flow, process_id):
    instance = submit(flow, process_id, "600000.00")  # the line holds 480,000 (+5 % tolerance)
    assert flow.finished(instance) == ("complete", "budget_refused")
    reason = flow.data(instance)["refuse_reason"]
    assert "refused on budget line 2026/ORG:SALES-N/TRAVEL" in reason and "FORBID" in reason
    line = flow.balance(TRAVEL_LINE)
    assert (line.reserved, line.consumed) == (0, 0)
    assert flow.reservations(document(flow, instance)) == []
    assert flow.templates(instance) == [f"{process_id}_budget_refused"]


@pytest.mark.parametrize("process_id", PROCESSES)
def test_warn_line_overspend_is_flagged_to_every_approver(flow, process_id):
    meals = line_key("MEALS")  # WARN control, 120,000
    instance = submit(flow, process_id, "130000.00", subject="MEALS")
    assert flow.reserved(meals) == Decimal("130000.00")
    for level in (MANAGER_TASK, DEPARTMENT_HEAD_TASK, FINANCE_DIRECTOR_TASK):
        assert flow.inbox(instance) == [level]
        assert flow.task_data(instance, level[0])["budget_warning"] is True
        flow.decide(instance)
    assert flow.finished(instance)[1] == ("approved" if process_id == "travel_application" else "posted")
    assert flow.balance(meals).available == Decimal("-10000.00")


def test_within_budget_carries_no_warning(flow):
    instance = flow.apply("1280.50", subject="MEALS")
    assert flow.task_data(instance, "approve_by_manager")["budget_warning"] is False


@pytest.mark.parametrize("process_id", PROCESSES)
def test_the_whole_chain_with_countersign_all_agreeing(flow, process_id):
    instance = submit(flow, process_id, "25000.00", subject="ENTERTAINMENT")  # every level, then 会签
    for level in (MANAGER_TASK, DEPARTMENT_HEAD_TASK, FINANCE_DIRECTOR_TASK):
        assert flow.inbox(instance) == [level]
        flow.decide(instance)
    for approver in sorted(COUNTERSIGNERS, reverse=True):  # completion order does not matter
        flow.decide(instance, bpmn_id="countersign", user=approver)
    assert flow.finished(instance)[1] == ("approved" if process_id == "travel_application" else "posted")
    votes = {v["approver"]: v["decision"] for v in flow.data(instance)["countersign_votes"]}
    assert votes == dict.fromkeys(COUNTERSIGNERS, "approve")
