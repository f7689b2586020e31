"""Kill the worker between the ERP call and the commit: exactly one voucher per claim, no claim lost.
A job that kills every worker running it stops at the attempt limit as an incident."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.persistence.audit_table import AuditLog
from engine.persistence.erp_tables import ErpVoucher
from engine.persistence.workflow_tables import OutboxJob, ProcessInstance, Voucher
from tests.engine_support import approved_claim

pytestmark = pytest.mark.slow
CLAIMS = 12
WORKER = Path(__file__).with_name("crash_worker.py")


def run_workers_until_done(env: dict[str, str], *, max_runs: int = 300) -> tuple[int, int]:
    """Start crash-prone workers one after another until one finishes normally; count the kills."""
    kills = 0
    for run in range(1, max_runs + 1):
        done = subprocess.run([sys.executable, str(WORKER)], env=env, capture_output=True, text=True,
                              check=False, timeout=120)
        if done.returncode == -signal.SIGKILL:
            kills += 1
            time.sleep(0.25)  # let the dead worker's lease run out
            continue
        assert done.returncode == 0, done.stderr[-2000:]
        return run, kills
    raise AssertionError(f"workers did not finish in {max_runs} runs")


def outcome(app):
    """Vouchers per claim in the ERP, the instances' and jobs' statuses."""
    with app.session_factory() as s:
        per_document = dict(s.execute(select(Voucher.document_no, func.count()).group_by(Voucher.document_no)).all())
        statuses = dict(s.execute(select(ProcessInstance.status, func.count()).group_by(ProcessInstance.status)).all())
        jobs = dict(s.execute(select(OutboxJob.status, func.count()).group_by(OutboxJob.status)).all())
    return per_document, statuses, jobs


def recorded(app) -> dict[str, int]:
    """budgetflow's own record of the vouchers it posted (erp_voucher), per claim."""
    with app.session_factory() as s:
        return dict(s.execute(select(ErpVoucher.document_no, func.count()).group_by(ErpVoucher.document_no)).all())


# Kills happen only after a successful post: at 0.5 per post over 12 claims, a run without any kill (which
# would test nothing and fail the "kills > 0" check) has a chance of 0.5**12 = 0.02 %.
@pytest.mark.parametrize(("crash_rate", "fail_rate"), [(0.5, 0.0), (0.5, 0.3)], ids=["sigkill", "sigkill+30%fail"])
def test_killed_workers_post_exactly_one_voucher_per_claim(app, cli_env, crash_rate, fail_rate):
    for n in range(CLAIMS):
        approved_claim(app, f"EXP-K-{n}")
    # A job's chance to end in a recorded success is ~0.35 per attempt here, so some need a dozen attempts:
    # uncapped, the doubling back-off (0.01 s * 2**13 = 82 s) would outlast a worker run's time limit.
    env = {**cli_env, "CRASH_RATE": str(crash_rate), "FAIL_RATE": str(fail_rate),
           "BUDGETFLOW_OUTBOX_LEASE_SECONDS": "0.2", "BUDGETFLOW_OUTBOX_BACKOFF_SECONDS": "0.01",
           "BUDGETFLOW_OUTBOX_BACKOFF_CAP_SECONDS": "0.2", "BUDGETFLOW_OUTBOX_MAX_ATTEMPTS": "50",
           "PYTHONPATH": str(Path(__file__).parent.parent)}
    runs, kills = run_workers_until_done(env)
    per_document, statuses, jobs = outcome(app)
    assert kills > 0, "no worker was killed: the test did not test anything"
    assert per_document == {f"EXP-K-{n}": 1 for n in range(CLAIMS)}
    assert recorded(app) == {f"EXP-K-{n}": 1 for n in range(CLAIMS)}  # budgetflow's erp_voucher: one each too
    assert statuses == {"complete": CLAIMS}
    assert jobs == {"done": CLAIMS}


def test_negative_control_a_connector_without_idempotency_posts_duplicates(app, cli_env):
    for n in range(CLAIMS):
        approved_claim(app, f"EXP-N-{n}")
    env = {**cli_env, "CRASH_RATE": "0.5", "FAIL_RATE": "0", "NAIVE_ERP": "1",
           "BUDGETFLOW_OUTBOX_LEASE_SECONDS": "0.2", "BUDGETFLOW_OUTBOX_BACKOFF_SECONDS": "0.01",
           "PYTHONPATH": str(Path(__file__).parent.parent)}
    _, kills = run_workers_until_done(env)
    per_document, _, _ = outcome(app)
    assert kills > 0
    assert sum(per_document.values()) > CLAIMS, "killed workers without idempotency must duplicate vouchers"


def test_a_job_that_kills_its_worker_becomes_an_incident_at_the_attempt_limit(app, cli_env):
    approved_claim(app, "EXP-DIE-1")
    env = {**cli_env, "KILL_IN_JOB": "1", "BUDGETFLOW_OUTBOX_MAX_ATTEMPTS": "3",
           "BUDGETFLOW_OUTBOX_LEASE_SECONDS": "0.2", "PYTHONPATH": str(Path(__file__).parent.parent)}
    # Before the fix every restart leased the job again (7 kills and counting, no incident): bounded here.
    runs, kills = run_workers_until_done(env, max_runs=8)
    assert (runs, kills) == (4, 3)  # three workers died running it; the fourth gave it up and finished
    with app.session_factory() as s:
        job = s.execute(select(OutboxJob.status, OutboxJob.attempts, OutboxJob.last_error)).one()
        audited = s.execute(select(AuditLog.action, AuditLog.payload).where(
            AuditLog.subject_type == "outbox_job")).all()
        vouchers = s.scalar(select(func.count()).select_from(Voucher))
    assert tuple(job) == ("incident", 3, "worker died while running it (after 3 attempts)")
    assert [a for a, _ in audited] == ["connector.incident"] and "worker died" in audited[0][1]
    assert vouchers == 0
