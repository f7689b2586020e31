"""Issue 13, acceptance 3: two ``budgetflow worker`` processes and two driver processes on PostgreSQL; every
claim posts exactly once, nothing ends dead or in incident, the ledger and the audit chain verify.

The run is engine/bench/worker_fleet.py (also ``budgetflow bench workers``): real processes, the shipped
diagrams, the demo company. The negative controls show that its checks fail when a claim posts twice, when
one never posts, and when no worker runs at all.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.bench import posted_once, worker_fleet
from engine.bench.lifecycle_driver import drive
from engine.persistence.workflow_tables import Voucher
from engine.services import outbox
from tests.worker.support import verify_ledger_and_audit

pytestmark = pytest.mark.slow
DRIVERS, LIFECYCLES = 2, 8  # 16 claims: about 5 s of run on two busy cores, well under the 60 s budget
JOBS_PER_CLAIM = 5  # the voucher, and the notifications the two diagrams send on the way (one after posting)


@pytest.fixture
def pg_db(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("two workers on PostgreSQL (set BUDGETFLOW_TEST_DATABASE_URL)")
    return db_url


def test_two_workers_and_two_drivers_post_every_claim_exactly_once(pg_db, tmp_path):
    env = worker_fleet.environment(pg_db, tmp_path)
    report = worker_fleet.run_fleet(env, tmp_path, workers=2, drivers=DRIVERS, lifecycles=LIFECYCLES)
    assert report.problems() == [], report.to_json()
    claims = DRIVERS * LIFECYCLES
    assert report.posting is not None and report.posting.vouchers == claims
    assert report.posting.jobs == {"done": claims * JOBS_PER_CLAIM}
    assert report.posting.max_attempts == 1, "a job failed once: look for its error in the workers' logs"
    assert report.worker_exit_codes == [0, 0]  # both stopped cleanly by SIGTERM
    # Both workers posted: one that idled throughout would leave the race between them untested.
    assert sum(report.vouchers_by_worker) == claims and min(report.vouchers_by_worker) > 0, report.vouchers_by_worker
    verify_ledger_and_audit(env)  # and the commands a person runs say so too


def test_negative_control_the_check_names_a_claim_posted_twice_and_one_never_posted(container):
    worker_fleet.prepare(container)
    claims = [drive(container, f"NC-{n}") for n in range(2)]
    outbox.run_due(container.uow, container.job_runner(), policy=container.retry_policy())  # in-process posting
    assert posted_once.check(container.session_factory, claims).ok  # the control starts from a good run

    with container.session_factory.begin() as s:  # a second voucher for the first claim, under a key of its own
        s.add(Voucher(voucher_no="DUP-1", idempotency_key="duplicate", document_no=claims[0], currency="CNY",
                      total=Decimal("1100.00"), lines="[]"))
    lost = drive(container, "NC-lost")  # approved, its voucher job never run
    found = posted_once.check(container.session_factory, [*claims, lost])
    assert not found.ok
    assert found.duplicated == {claims[0]: 2}
    assert found.not_posted == [lost] and found.unfinished == {lost: "waiting/None"}
    assert found.jobs == {"done": 2 * JOBS_PER_CLAIM, "pending": JOBS_PER_CLAIM - 1}  # the last waits for the voucher
    assert {f"{claims[0]}: 2 vouchers", f"{lost}: no voucher", "4 outbox job(s) pending"} <= set(found.problems())


def test_negative_control_a_run_without_workers_reports_every_claim_unposted(db_url, tmp_path):
    env = worker_fleet.environment(db_url, tmp_path)
    report = worker_fleet.run_fleet(env, tmp_path, workers=0, drivers=1, lifecycles=2, timeout=30)
    assert not report.ok
    assert report.posting is not None and report.posting.not_posted == ["EC-D0-0", "EC-D0-1"]
    assert "no worker is running: every one has exited, or none was started" in report.problems()
