"""Timers fire through the worker's poll of next_timer_at, exactly once even with two workers."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter

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
