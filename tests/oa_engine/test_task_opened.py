"""Mode 3: an approval task that opens queues one work notification (``notify/Send`` to ``task:<guid>``) in the
step's own transaction, when its diagram asks for it with ``notify="on_open"``; never two for one task, none for
a task whose diagram does not ask, and the notification reaches whoever the task waits for when it is sent."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.bootstrap import Container
from engine.persistence import people_lookups
from engine.persistence.types import utcnow
from engine.services import outbox, processes, tasks
from engine.services.masterdata.importing import seed_demo
from engine.services.steps import advance_and_save, load_run
from engine.workflow.bundle import read_folder

SHIPPED = Path(__file__).resolve().parents[2] / "bpmn"
NOTIFY = '<spiffworkflow:property name="notify" value="on_open" />'
APPLICANT, MANAGER, DEPT_HEAD = "E0017", "E0005", "E0002"


@pytest.fixture
def company(container: Container) -> Container:
    """The demo company with the shipped diagrams (their approval tasks ask for a notification on open)."""
    seed_demo(container.masterdata_store)
    files = read_folder(SHIPPED)
    assert NOTIFY in files["shared/approval_chain.bpmn"]
    processes.deploy(container.uow, files, by="E0016")
    return container


def jobs(container: Container) -> list[dict]:
    with container.engine.connect() as conn:
        rows = conn.execute(text("SELECT operator, params, idempotency_key, task_guid, status FROM outbox_job "
                                 "ORDER BY id")).all()
    return [{"operator": o, "params": json.loads(p), "key": k, "task_guid": g, "status": s}
            for o, p, k, g, s in rows]


def opened_jobs(container: Container) -> list[dict]:
    return [j for j in jobs(container) if j["params"].get("template") == "task_opened"]


def apply(container: Container, document_no: str, amount: str = "3000.00") -> tuple[int, str]:
    """A travel application filled in: (instance id, the manager's approval task guid). Nothing queued before."""
    started = processes.start(container.uow, process_id="travel_application", applicant=APPLICANT,
                              business_key=document_no, data={})
    # fill_application opened: its diagram asks for nothing
    assert [j for j in jobs(container) if j["params"]["document_no"] == document_no] == []
    done = processes.complete_task(container.uow, task_guid=started.open_tasks[0]["task_guid"], user=APPLICANT,
                                   form={"subject": "TRAVEL", "purpose": "Visit", "amount": amount,
                                         "currency": "CNY", "period": "2026"})
    [approval] = done.open_tasks
    return done.instance_id, approval["task_guid"]


def test_an_approval_task_that_opens_queues_one_notification_for_it(company):
    instance_id, guid = apply(company, "TA-O-1")
    assert opened_jobs(company) == [{
        "operator": "notify/Send", "task_guid": guid, "status": "pending", "key": f"{instance_id}:{guid}:opened",
        "params": {"to": f"task:{guid}", "template": "task_opened", "document_no": "TA-O-1",
                   "task": "Manager approval 经理审批"}}]
    assert people_lookups.recipients(company.engine, f"task:{guid}", "TA-O-1") == [MANAGER]


def test_a_step_that_rolls_back_queues_nothing_and_its_retry_queues_one(company):
    started = processes.start(company.uow, process_id="travel_application", applicant=APPLICANT,
                              business_key="TA-O-7", data={})
    fill = started.open_tasks[0]["task_guid"]
    form = {"subject": "TRAVEL", "purpose": "Visit", "amount": "3000.00", "currency": "CNY", "period": "2026"}
    with company.uow() as uow:  # the step runs to the manager's approval, then dies before it commits
        row, run = load_run(uow, started.instance_id)
        run.complete(fill, form)
        assert len(advance_and_save(uow, row, run).open_tasks) == 1
        assert uow.conn.execute(text("SELECT count(*) FROM outbox_job")).scalar() == 1  # queued in the step
    assert jobs(company) == []  # ... and gone with it
    retried = processes.complete_task(company.uow, task_guid=fill, user=APPLICANT, form=form)
    [job] = jobs(company)
    assert job["params"]["to"] == f"task:{retried.open_tasks[0]['task_guid']}"


def test_steps_that_keep_the_task_open_queue_nothing_more_and_each_new_task_gets_its_own(company):
    _instance_id, manager_task = apply(company, "TA-O-2", amount="8000.00")  # over 5,000: the department head too
    # the reminder fires a day later: the instance is stepped and saved again while the task stays open
    assert processes.fire_due_timers(company.uow, now=utcnow() + timedelta(hours=25)) == 1
    assert [j["params"]["template"] for j in jobs(company)] == ["task_opened", "approval_reminder"]
    processes.complete_task(company.uow, task_guid=manager_task, user=MANAGER,
                            form={"decision": "approve", "comment": "ok"})
    first, second = opened_jobs(company)
    assert first["task_guid"] == manager_task and second["task_guid"] != manager_task
    assert second["params"]["task"] == "Department head approval 部门负责人审批"
    assert people_lookups.recipients(company.engine, second["params"]["to"], "TA-O-2") == [DEPT_HEAD]
    # the manager's task has closed: a notification still queued for it would reach nobody
    assert people_lookups.recipients(company.engine, f"task:{manager_task}", "TA-O-2") == []


def test_the_notification_reaches_whoever_holds_the_task_when_it_is_sent(company):
    _instance_id, guid = apply(company, "TA-O-3")
    apply(company, "TA-O-4")
    tasks.delegate(company.uow, task_guid=guid, user=MANAGER, to=DEPT_HEAD, reason="on leave")
    assert people_lookups.recipients(company.engine, f"task:{guid}", "TA-O-3") == [DEPT_HEAD]
    assert people_lookups.recipients(company.engine, f"task:{guid}", "TA-O-4") == []  # not that document's task
    assert people_lookups.recipients(company.engine, f"task:{guid}", None) == []


def test_a_diagram_without_the_property_queues_nothing(company):
    files = read_folder(SHIPPED)
    files["shared/approval_chain.bpmn"] = files["shared/approval_chain.bpmn"].replace(NOTIFY, "")
    processes.deploy(company.uow, files, by="E0016", label="no notifications")
    _instance_id, guid = apply(company, "TA-O-5")
    assert guid and jobs(company) == []


def test_without_an_oa_suite_the_notification_is_only_logged(company, caplog):
    apply(company, "TA-O-6")
    runner = company.job_runner()
    assert runner.notifier is None
    with caplog.at_level(logging.INFO, logger="engine.services.job_runner"):
        assert outbox.run_due(company.uow, runner) == 1
    [job] = jobs(company)
    assert job["status"] == "done"
    assert [s["template"] for s in runner.sent] == ["task_opened"]
    assert any("task_opened" in r.getMessage() and "TA-O-6" in r.getMessage() for r in caplog.records)
    assert outbox.run_due(company.uow, runner) == 0  # nothing is due again
