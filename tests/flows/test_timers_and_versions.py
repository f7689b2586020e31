"""Reminders and SLA escalation through the worker's timer poll, and a DMN change deployed without code."""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest
from sqlalchemy import select

from engine.persistence.workflow_tables import ProcessInstance
from engine.services import processes
from engine.services.steps import NotAllowed
from engine.workflow.bundle import read_folder
from tests.flows.support import APPLICANT, BPMN, DEPARTMENT_HEAD, FINANCE_DIRECTOR, MANAGER, Flow

MANAGER_TASK = ("approve_by_manager", "manager", [MANAGER])
DEPARTMENT_HEAD_TASK = ("approve_by_department_head", "department_head", [DEPARTMENT_HEAD])
FINANCE_DIRECTOR_TASK = ("approve_by_finance_director", "finance_director", [FINANCE_DIRECTOR])


def test_a_due_reminder_sends_a_notification_and_keeps_the_task(flow: Flow):
    instance = flow.apply("1280.50")
    assert flow.waiting_timers(instance) == ["escalate_manager", "remind_manager"]
    before = flow.task(instance, "approve_by_manager")
    assert flow.fire_timers(instance) == 0  # nothing is due yet
    flow.force_due(instance, "remind_manager")
    assert flow.fire_timers(instance) == 1
    reminders = [j for j in flow.jobs(instance, "notify/Send") if j["template"] == "approval_reminder"]
    assert reminders == [{"operator": "notify/Send", "status": "done", "to": "lane:manager",
                          "template": "approval_reminder", "document_no": flow.instance(instance).business_key,
                          "overdue": ""}]  # on time
    assert flow.task(instance, "approve_by_manager") == before  # the same task, still open
    assert flow.waiting_timers(instance) == ["escalate_manager", "remind_manager"]  # two more cycles to go
    flow.decide(instance)
    assert flow.finished(instance) == ("complete", "approved")
    assert flow.waiting_timers(instance) == []


def test_a_missed_manager_sla_moves_the_decision_to_the_department_head(flow: Flow):
    instance = flow.claim("1280.50")  # small: normally the manager alone
    assert flow.inbox(instance) == [MANAGER_TASK]
    manager_task = flow.task(instance)["task_guid"]
    flow.force_due(instance, "escalate_manager")
    assert flow.fire_timers(instance) == 1
    assert flow.inbox(instance) == [DEPARTMENT_HEAD_TASK]
    with pytest.raises(NotAllowed, match="not open"):  # the manager's task was taken away
        processes.complete_task(flow.app.uow, task_guid=manager_task, user=MANAGER, form={"decision": "approve"})
    flow.decide(instance)
    assert flow.finished(instance) == ("complete", "posted")


def test_a_changed_dmn_routes_new_requests_while_running_ones_keep_their_version(flow: Flow, tmp_path):
    before = flow.apply("3000.00")  # on the shipped model: 3,000 needs the manager only
    assert flow.inbox(before) == [MANAGER_TASK]
    models = tmp_path / "bpmn"
    shutil.copytree(BPMN, models)
    dmn = models / "shared" / "approval_route.dmn"
    text = dmn.read_text(encoding="utf-8")
    old_rule = '<inputEntry id="rule_4_amount"><text>&gt; 5000</text></inputEntry>'
    assert text.count(old_rule) == 1
    dmn.write_text(text.replace(old_rule, old_rule.replace("5000", "1000")), encoding="utf-8")
    version, _sha = processes.deploy(flow.app.uow, read_folder(models), by="E0016", label="department head > 1000")
    assert version > 1

    after = flow.apply("3000.00")
    flow.decide(after)
    assert flow.inbox(after) == [DEPARTMENT_HEAD_TASK]
    flow.decide(after)
    assert flow.finished(after) == ("complete", "approved")

    flow.decide(before)
    assert flow.inbox(before) == []
    assert flow.finished(before) == ("complete", "approved")
    assert flow.data(before)["need_department_head"] is False
    with flow.app.session_factory() as s:
        pinned = dict(s.execute(select(ProcessInstance.id, ProcessInstance.model_version_id)
                                .where(ProcessInstance.id.in_([before, after]))).all())
    assert pinned[before] < pinned[after] == version


def test_reminders_stop_after_their_third_cycle(flow: Flow):
    instance = flow.apply("1280.50")
    for _ in range(3):
        flow.force_due(instance, "remind_manager")
        assert flow.fire_timers(instance) == 1
    assert flow.templates(instance) == ["approval_reminder"] * 3
    assert flow.waiting_timers(instance) == ["escalate_manager"]  # the reminder cycle is complete
    assert flow.inbox(instance) == [MANAGER_TASK]


def test_a_missed_department_head_sla_moves_the_decision_to_the_finance_director(flow: Flow):
    instance = flow.apply("8000.00")
    flow.decide(instance)
    flow.force_due(instance, "escalate_department_head")
    flow.fire_timers(instance)
    assert flow.inbox(instance) == [FINANCE_DIRECTOR_TASK]
    flow.decide(instance)
    assert flow.finished(instance) == ("complete", "approved")


def test_a_missed_finance_director_sla_alerts_the_admin_and_reopens_the_task(flow: Flow):
    instance = flow.apply("25000.00")
    flow.decide(instance)
    flow.decide(instance)
    first = flow.task(instance, "approve_by_finance_director")["task_guid"]
    flow.force_due(instance, "overdue_finance_director")
    flow.fire_timers(instance)
    assert flow.notifications(instance) == [("role:admin", "approval_overdue")]
    # the reopened task is a new task: its people are told again
    assert flow.opened(instance) == ["approve_by_manager", "approve_by_department_head",
                                     "approve_by_finance_director", "approve_by_finance_director"]
    assert flow.inbox(instance) == [FINANCE_DIRECTOR_TASK]
    assert flow.task(instance)["task_guid"] != first  # reopened with a fresh SLA
    assert "overdue_finance_director" in flow.waiting_timers(instance)
    flow.decide(instance)
    assert flow.finished(instance) == ("complete", "approved")


def test_a_missed_countersign_sla_lets_the_finance_director_decide(flow: Flow):
    instance = flow.apply("12000.00", subject="ENTERTAINMENT")
    flow.decide(instance)
    flow.decide(instance)
    flow.decide(instance, bpmn_id="countersign", user="E0013")
    flow.force_due(instance, "escalate_countersign")
    flow.fire_timers(instance)
    assert flow.inbox(instance) == [FINANCE_DIRECTOR_TASK]
    flow.decide(instance)
    assert flow.finished(instance) == ("complete", "approved")  # no second countersign round
    assert flow.data(instance)["countersign_to_finance_director"] is True


def test_overrun_approval_reminds_escalates_is_sent_back_and_withdrawn(flow: Flow):
    application = flow.apply("1000.00")
    flow.decide(application)
    number = flow.instance(application).business_key
    lines = flow.lines("1040.00")
    instance = flow.claim(lines=lines, application_no=number)
    flow.decide(instance)
    assert flow.waiting_timers(instance) == ["overdue_overrun", "remind_overrun"]
    flow.force_due(instance, "remind_overrun")
    flow.fire_timers(instance)
    flow.force_due(instance, "overdue_overrun")
    flow.fire_timers(instance)
    assert flow.notifications(instance) == [
        ("lane:finance", "approval_reminder"), ("lane:finance_director", "approval_overdue")]
    flow.decide(instance, "send_back", "Attach the hotel folio 请补充住宿水单", bpmn_id="approve_overrun")
    assert flow.inbox(instance) == [("fill_claim", "applicant", [APPLICANT])]
    assert flow.task_data(instance, "fill_claim")["lines"] == lines
    flow.act(instance, {"purpose": "Shanghai trip, folio attached 已附水单"})
    flow.decide(instance)
    assert flow.task(instance)["bpmn_id"] == "approve_overrun"
    flow.withdraw(instance)
    assert flow.finished(instance) == ("complete", "withdrawn")
    assert flow.reservations(number) == [(Decimal("1000.00"), 0, 0, "open")]  # never released by the claim


def test_an_approval_task_carries_its_sla_due_time_in_the_inbox(flow):
    from datetime import timedelta

    from sqlalchemy import select

    from engine.persistence.types import utcnow
    from engine.persistence.workflow_tables import HumanTask

    instance = flow.apply("1280.50")
    with flow.app.session_factory() as s:
        due = s.scalar(select(HumanTask.due_at).where(HumanTask.instance_id == instance,
                                                      HumanTask.bpmn_id == "approve_by_manager"))
    assert due is not None and timedelta(hours=1) < due - utcnow() < timedelta(days=30)
