"""Timers fire through the worker's poll of next_timer_at, exactly once even with two workers."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from engine.persistence.audit_table import AuditLog
from engine.persistence.types import utcnow
from engine.persistence.workflow_tables import ProcessInstance
from engine.services import processes
from engine.services.steps import advance_and_save
from engine.workflow.runtime import WorkflowRun
from engine.workflow.service_tasks import new_script_engine

pytestmark = pytest.mark.slow
INSTANCES = 30


def start_timers(app, prefix: str, n: int = INSTANCES) -> None:
    for i in range(n):
        processes.start(app.uow, process_id="mini_timer", applicant="E0017", business_key=f"{prefix}-{i}",
                        data={"reminder_after": "PT1S"})


def firings(app, prefix: str) -> Counter[str]:
    with app.session_factory() as s:
        rows = s.execute(select(AuditLog.subject_id, AuditLog.payload).where(
            AuditLog.action == "engine.steps", AuditLog.subject_id.startswith(prefix)))
        return Counter(doc for doc, payload in rows if '"reminder_due"' in payload)


def test_a_due_timer_fires_once_with_two_workers_polling(app, cli_env):
    start_timers(app, "TMR")
    with app.session_factory() as s:
        assert s.scalar(select(ProcessInstance.next_timer_at).where(ProcessInstance.business_key == "TMR-0"))
    time.sleep(1.5)
    command = [sys.executable, "-m", "engine", "worker", "--once"]
    workers = [subprocess.Popen(command, env=cli_env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    assert firings(app, "TMR") == {f"TMR-{i}": 1 for i in range(INSTANCES)}
    with app.session_factory() as s:
        assert s.scalars(select(ProcessInstance.next_timer_at).where(
            ProcessInstance.business_key.startswith("TMR"))).all() == [None] * INSTANCES


def naive_fire(app, instance_id: int, barrier: threading.Barrier) -> None:
    """Load without the row lock and save blindly: what the instance lock exists to prevent."""
    with app.session_factory() as s:
        state = s.scalar(select(ProcessInstance.state).where(ProcessInstance.id == instance_id))
    run = WorkflowRun.load(state, new_script_engine())
    barrier.wait()
    with app.uow() as uow:
        row = uow.instances.lock(instance_id)
        advance_and_save(uow, row, run)
        uow.commit()


def test_negative_control_firing_without_the_instance_lock_fires_twice(app):
    start_timers(app, "NAIVE", n=1)
    with app.session_factory() as s:
        instance_id = s.scalar(select(ProcessInstance.id).where(ProcessInstance.business_key == "NAIVE-0"))
        s.execute(update(ProcessInstance).values(next_timer_at=utcnow()))
        s.commit()
    time.sleep(1.2)
    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=naive_fire, args=(app, instance_id, barrier)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert firings(app, "NAIVE") == {"NAIVE-0": 2}


# ---------------------------------------------------------------- reminders missed during an outage

@pytest.fixture
def flow(container):
    """The demo company with the real diagrams of bpmn/ (approval reminders every 24 h, 3 times; SLA 72 h)."""
    from engine.services.masterdata.importing import seed_demo
    from engine.workflow.bundle import read_folder
    from tests.flows.support import BPMN, Flow

    seed_demo(container.masterdata_store)
    processes.deploy(container.uow, read_folder(BPMN), by="E0016")
    return Flow(container)


def reminders(flow, instance: int) -> list[dict]:
    return [j for j in flow.jobs(instance, "notify/Send") if j["template"] == "approval_reminder"]


def shift_timers_back(flow, instance: int, by: timedelta) -> None:
    """As if the instance had waited ``by`` longer: every waiting timer is due that much earlier (real clock)."""
    from SpiffWorkflow.util.task import TaskState

    from engine.services.processes import load_run

    with flow.app.uow() as uow:
        row, run = load_run(uow, instance)
        for task in run.wf.get_tasks(state=TaskState.WAITING):
            value = task.internal_data.get("event_value")
            if isinstance(value, dict):  # a cycle timer
                value["next"] = (datetime.fromisoformat(value["next"]) - by).isoformat()
            elif isinstance(value, str):
                task.internal_data["event_value"] = (datetime.fromisoformat(value) - by).isoformat()
        uow.instances.save(row, state=run.dump(), status=row.status, outcome=None, next_timer_at=run.next_timer_at())
        uow.commit()


def test_reminders_missed_while_the_clock_jumped_80_hours_go_out_once_saying_how_late(flow):
    instance = flow.apply("1280.50")  # the manager's approval waits: reminder every 24 h (3 times), SLA 72 h
    assert processes.fire_due_timers(flow.app.uow, now=utcnow() + timedelta(hours=1)) == 0
    fired = processes.fire_due_timers(flow.app.uow, now=utcnow() + timedelta(hours=80))
    flow.settle(instance)
    assert fired == 1
    sent = reminders(flow, instance)
    assert len(sent) == 1, sent  # not one per missed period
    assert sent[0]["to"] == "lane:manager" and sent[0]["overdue"] == "2 days 8 hours"


def test_after_an_outage_of_70_hours_the_two_missed_reminders_of_a_task_coalesce_into_one(flow):
    instance = flow.apply("1280.50")
    shift_timers_back(flow, instance, timedelta(hours=70))  # reminders due at 24 h and 48 h; the SLA (72 h) not yet
    for _ in range(3):  # the worker's polls after it came back
        processes.fire_due_timers(flow.app.uow, now=utcnow())
        flow.settle(instance)
    sent = reminders(flow, instance)
    assert len(sent) == 1, sent  # the code before coalescing sent two
    assert sent[0]["overdue"] == "1 day 22 hours"  # the first missed reminder was due 46 hours ago
    assert flow.waiting_timers(instance) == ["escalate_manager", "remind_manager"]  # the third is still to come
    assert flow.inbox(instance) == [("approve_by_manager", "manager", ["E0005"])]
