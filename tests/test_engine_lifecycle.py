"""The process engine end to end on a real database: inbox, authorization, ledger, outbox, local ERP."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from connectors.base import ConnectorError
from engine.persistence.workflow_tables import OutboxJob, Voucher
from engine.services import outbox, processes, tasks
from engine.services.steps import NotAllowed
from tests.engine_support import APPLICANT, FINANCE, MANAGER, approved_claim, only_task, start_claim


def count(app, model, **where):
    with app.session_factory() as s:
        stmt = select(func.count()).select_from(model)
        for column, value in where.items():
            stmt = stmt.where(getattr(model, column) == value)
        return s.scalar(stmt)


def test_a_claim_runs_from_submission_to_one_posted_voucher(app):
    started = start_claim(app, "EXP-T-1")
    fill = only_task(started)
    assert fill["lane"] == "applicant" and fill["candidates"] == [APPLICANT]
    approval = only_task(processes.complete_task(app.uow, task_guid=fill["task_guid"], user=APPLICANT, form={}))
    assert approval["candidates"] == [MANAGER]
    waiting = processes.complete_task(app.uow, task_guid=approval["task_guid"], user=MANAGER,
                                      form={"decision": "approve"})
    assert waiting.status == "waiting" and count(app, OutboxJob, status="pending") == 1
    runner = app.job_runner()
    assert outbox.run_due(app.uow, runner) == 1
    assert outbox.run_due(app.uow, runner) == 0
    assert count(app, Voucher, document_no="EXP-T-1") == 1
    with app.uow() as uow:
        assert uow.instances.lock(started.instance_id).status == "complete"


def test_the_applicant_cannot_approve_and_strangers_cannot_act(app):
    fill = only_task(start_claim(app, "EXP-T-2"))
    with pytest.raises(NotAllowed, match="not a candidate"):
        processes.complete_task(app.uow, task_guid=fill["task_guid"], user=MANAGER, form={})
    approval = only_task(processes.complete_task(app.uow, task_guid=fill["task_guid"], user=APPLICANT, form={}))
    with pytest.raises(NotAllowed, match="not a candidate"):
        processes.complete_task(app.uow, task_guid=approval["task_guid"], user=APPLICANT,
                                form={"decision": "approve"})


def test_a_rejected_claim_ends_rejected(app):
    fill = only_task(start_claim(app, "EXP-T-3"))
    approval = only_task(processes.complete_task(app.uow, task_guid=fill["task_guid"], user=APPLICANT, form={}))
    done = processes.complete_task(app.uow, task_guid=approval["task_guid"], user=MANAGER,
                                   form={"decision": "reject"})
    assert (done.status, done.outcome) == ("complete", "rejected")


def test_forbid_stops_the_claim_with_budget_refused(app):
    fill = only_task(start_claim(app, "EXP-T-4", amount="99999999.00"))
    done = processes.complete_task(app.uow, task_guid=fill["task_guid"], user=APPLICANT, form={})
    assert (done.status, done.outcome) == ("complete", "budget_refused")


class FlakyErp:
    """Fails the first ``failures`` posts with ``code``; then posts through the real local ERP."""

    def __init__(self, inner, failures: int, *, retryable: bool):
        self.inner, self.failures, self.retryable = inner, failures, retryable

    def post_voucher(self, draft, *, idempotency_key, **options):
        if self.failures > 0:
            self.failures -= 1
            raise ConnectorError("ERP_POST_FAILED", "ERP answered 500", retryable=self.retryable)
        return self.inner.post_voucher(draft, idempotency_key=idempotency_key, **options)

    def find_voucher(self, *, idempotency_key):
        return self.inner.find_voucher(idempotency_key=idempotency_key)

    def list_vouchers(self, **window):
        return self.inner.list_vouchers(**window)

    @property
    def name(self):
        return self.inner.name


def test_an_erp_failure_goes_to_finance_who_retries_and_it_posts_once(app):
    approved_claim(app, "EXP-T-5")
    runner = app.job_runner()
    runner.erp = FlakyErp(runner.erp, failures=1, retryable=False)
    outbox.run_due(app.uow, runner)
    with app.uow() as uow:
        fix = uow.instances.open_tasks_for(FINANCE)
    assert [t["bpmn_id"] for t in fix] == ["fix_posting"]
    processes.complete_task(app.uow, task_guid=fix[0]["task_guid"], user=FINANCE, form={})
    assert outbox.run_due(app.uow, runner) == 1
    assert count(app, Voucher, document_no="EXP-T-5") == 1


def test_transient_failures_retry_with_backoff_then_become_an_incident(app):
    approved_claim(app, "EXP-T-6")
    runner = app.job_runner()
    runner.erp = FlakyErp(runner.erp, failures=99, retryable=True)
    policy = outbox.RetryPolicy(max_attempts=3)
    from datetime import timedelta

    from engine.persistence.types import utcnow

    now = utcnow()
    for attempt in range(3):
        assert outbox.run_one(app.uow, runner, policy=policy, now=now + timedelta(hours=attempt)) is True
    assert count(app, OutboxJob, status="incident") == 1 and count(app, Voucher) == 0


def test_a_delegated_task_belongs_to_the_delegate_alone_and_never_to_the_applicant(app):
    fill = only_task(start_claim(app, "EXP-T-7"))
    approval = only_task(processes.complete_task(app.uow, task_guid=fill["task_guid"], user=APPLICANT, form={}))
    with pytest.raises(NotAllowed, match="the applicant"):
        tasks.delegate(app.uow, task_guid=approval["task_guid"], user=MANAGER, to=APPLICANT)
    assert [t["task_guid"] for t in my_tasks(app, MANAGER)] == [approval["task_guid"]]
    tasks.delegate(app.uow, task_guid=approval["task_guid"], user=MANAGER, to="E0002", reason="on leave")
    assert my_tasks(app, MANAGER) == [] and [t["document_no"] for t in my_tasks(app, "E0002")] == ["EXP-T-7"]
    with pytest.raises(NotAllowed, match="not a candidate"):
        processes.complete_task(app.uow, task_guid=approval["task_guid"], user=MANAGER, form={"decision": "approve"})
    done = processes.complete_task(app.uow, task_guid=approval["task_guid"], user="E0002",
                                   form={"decision": "approve", "comment": "ok"})
    assert done.status == "waiting"
    assert my_tasks(app, "E0002") == [] and my_tasks(app, MANAGER) == []


def my_tasks(app, employee):
    with app.reader() as uow:
        return uow.instances.open_tasks_for(employee)


def test_comments_and_refusals_land_in_the_verified_audit_log(app, cli_env):
    import subprocess
    import sys

    started = start_claim(app, "EXP-T-8")
    tasks.comment(app.uow, instance_id=started.instance_id, user=APPLICANT, text="hotel receipts follow")
    with pytest.raises(NotAllowed):
        tasks.comment(app.uow, instance_id=started.instance_id, user="E0012", text="nosy")
    with pytest.raises(NotAllowed):
        processes.complete_task(app.uow, task_guid=only_task(started)["task_guid"], user="E0012", form={})
    from engine.persistence.audit_table import AuditLog

    with app.session_factory() as s:
        actions = [a for (a,) in s.execute(select(AuditLog.action).order_by(AuditLog.seq))]
    assert {"process.started", "comment", "access.refused"} <= set(actions)
    verdict = subprocess.run([sys.executable, "-m", "engine", "audit", "verify"], env=cli_env,
                             capture_output=True, text=True, check=False)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr


def test_the_engine_runs_diagram_code_in_the_sandbox():
    from engine.workflow.scripts.spiff_adapter import SandboxedEnvironment
    from engine.workflow.service_tasks import new_script_engine

    engine = new_script_engine()
    assert isinstance(engine.environment, SandboxedEnvironment)
    with pytest.raises(Exception, match="__class__"):
        engine.environment.evaluate("().__class__.__base__", {})


def test_an_incident_is_listed_and_retried_by_an_admin_then_posts_once(app, cli_env):
    import subprocess
    import sys

    approved_claim(app, "EXP-T-9")
    runner = app.job_runner()
    runner.erp = FlakyErp(runner.erp, failures=2, retryable=True)
    policy = outbox.RetryPolicy(max_attempts=2)
    from datetime import timedelta

    from engine.persistence.types import utcnow

    for hour in range(2):
        outbox.run_one(app.uow, runner, policy=policy, now=utcnow() + timedelta(hours=hour))
    cli = [sys.executable, "-m", "engine", "incidents"]
    listed = subprocess.run([*cli, "list"], env=cli_env, capture_output=True, text=True, check=False)
    assert "1 job incident(s)" in listed.stdout and "erp/PostVoucher" in listed.stdout
    job_id = listed.stdout.split()[1]
    retried = subprocess.run([*cli, "retry", job_id, "--by", "E0015"], env=cli_env, capture_output=True,
                             text=True, check=False)
    assert retried.returncode == 0, retried.stderr
    assert outbox.run_due(app.uow, runner, policy=policy, now=utcnow() + timedelta(hours=3)) == 1
    assert count(app, Voucher, document_no="EXP-T-9") == 1 and count(app, OutboxJob, status="incident") == 0


def test_the_scheduler_process_runs_the_outbox_and_stops_on_sigterm(app, cli_env):
    import signal
    import subprocess
    import sys
    import time

    approved_claim(app, "EXP-T-10")
    proc = subprocess.Popen([sys.executable, "-m", "engine", "scheduler", "--outbox-seconds", "0.2",
                             "--timer-seconds", "0.5"], env=cli_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120  # a hang catcher: returns as soon as it holds
        while time.monotonic() < deadline and count(app, Voucher, document_no="EXP-T-10") == 0:
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert count(app, Voucher, document_no="EXP-T-10") == 1
    assert proc.returncode == 0, stderr[-2000:]


class _WorkerDies(BaseException):
    """Stands in for SIGKILL inside a connector call: nothing after it runs, nothing is recorded."""


class _DyingRunner:
    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def run(self, operator, params, *, key, **options):
        self.calls += 1
        if self.calls == 1:
            raise _WorkerDies
        return self.inner.run(operator, params, key=key, **options)


def test_a_dying_worker_costs_only_the_job_it_was_running_an_attempt(app):
    for n in range(3):
        approved_claim(app, f"EXP-T-D{n}")
    assert count(app, OutboxJob, status="pending") == 3
    with pytest.raises(_WorkerDies):
        outbox.run_due(app.uow, _DyingRunner(app.job_runner()))
    with app.session_factory() as s:
        attempts = sorted(s.scalars(select(OutboxJob.attempts)))
    # Leasing a batch up front would have counted an attempt (and a back-off) for jobs that never ran.
    assert attempts == [0, 0, 1]
