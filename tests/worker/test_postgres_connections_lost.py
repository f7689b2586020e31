"""Acceptance: PostgreSQL drops the worker's connections (pg_terminate_backend) again and again during a run of
claims; the worker keeps running, logs each outage once, and every claim posts exactly one voucher."""

from __future__ import annotations

import random
import threading
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text

from engine.persistence.workflow_tables import OutboxJob
from tests.engine_support import approved_claim
from tests.worker.support import (
    Worker,
    jobs_and_instances,
    verify_ledger_and_audit,
    vouchers_per_claim,
    wait_for,
)

pytestmark = pytest.mark.slow
CLAIMS, MIN_OUTAGES = 20, 4


@pytest.fixture
def pg_env(db_url, cli_env):
    if not db_url.startswith("postgresql"):
        pytest.skip("terminates PostgreSQL connections (set BUDGETFLOW_TEST_DATABASE_URL)")
    name = f"bf_worker_{uuid.uuid4().hex[:10]}"  # tags the worker's connections, and only them
    env = {**cli_env, "BUDGETFLOW_DATABASE_URL": f"{db_url}&application_name={name}",
           "BUDGETFLOW_OUTBOX_LEASE_SECONDS": "2"}  # a job whose outcome was lost runs again soon
    return env, name


def terminate(db_url: str, application_name: str) -> int:
    """Drop every connection of the worker, as a server restart or a failover would; returns how many."""
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                         "WHERE application_name = :name"), {"name": application_name}).all())
    finally:
        admin.dispose()


class Terminator(threading.Thread):
    """Drops the worker's connections, idle ones and ones mid-job, each time the worker is back from the last drop.

    Dropping on a fixed beat instead can keep one outage going for minutes on a busy machine: every retry meets
    a fresh drop, the backoff grows to its cap, and the log shows one long outage instead of several.
    """

    def __init__(self, db_url: str, name: str, worker: Worker) -> None:
        super().__init__(daemon=True)
        self.db_url, self.name, self.worker = db_url, name, worker
        self.halt, self.dropped, self.rng = threading.Event(), 0, random.Random(7)

    def _recovered(self) -> bool:
        return self.worker.count("database back after") >= self.worker.count("database outage")

    def run(self) -> None:
        while not self.halt.wait(0.1 + self.rng.random() * 0.6):
            if self._recovered():
                self.dropped += terminate(self.db_url, self.name)


def test_the_worker_rides_out_dropped_connections_and_every_claim_posts_once(app, pg_env, db_url, tmp_path):
    env, name = pg_env
    worker = Worker(env, tmp_path / "worker.log")
    terminator = Terminator(db_url, name, worker)
    try:
        wait_for(lambda: "budgetflow.worker" in worker.text(), "the worker to start")
        terminator.start()
        for n in range(CLAIMS):
            approved_claim(app, f"EXP-PG-{n}")
        wait_for(lambda: worker.count("database outage") >= MIN_OUTAGES or not worker.alive, "several outages")
        terminator.halt.set()
        terminator.join()
        wait_for(lambda: sum(vouchers_per_claim(app, "EXP-PG-").values()) >= CLAIMS or not worker.alive,
                 "every claim to post")
        wait_for(lambda: jobs_and_instances(app)[0] == {"done": CLAIMS} or not worker.alive, "every job done")
        wait_for(lambda: worker.count("database back after") == worker.count("database outage") or not worker.alive,
                 "the last outage to end")
        assert worker.alive, worker.text()[-3000:]
    finally:
        terminator.halt.set()
        code = worker.stop()
    log = worker.text()
    assert code == 0, log[-3000:]
    assert vouchers_per_claim(app, "EXP-PG-") == {f"EXP-PG-{n}": 1 for n in range(CLAIMS)}
    assert jobs_and_instances(app) == ({"done": CLAIMS}, {"complete": CLAIMS})
    with app.session_factory() as s:  # an interrupted job gets its attempt back: outages never add up to an incident
        assert s.scalar(select(func.max(OutboxJob.attempts))) <= 2  # 2: the rare drop during the lease's COMMIT
    # Each outage: one line when it began, one when it ended; no traceback, no SQL, no password.
    outages = log.count("database outage")
    assert outages >= MIN_OUTAGES and log.count("database back after") == outages, log[-3000:]
    assert "database outage [connection_lost]" in log
    assert "Traceback" not in log and "[SQL:" not in log and "password" not in log
    verify_ledger_and_audit(env)


def test_negative_control_a_worker_without_the_outage_handling_dies_at_the_first_drop(app, pg_env, db_url,
                                                                                       tmp_path):
    env, name = pg_env
    worker = Worker(env, tmp_path / "plain.log", plain=True)
    try:
        wait_for(lambda: "plain worker started" in worker.text(), "the plain worker to start")
        approved_claim(app, "EXP-PG-N-0")
        wait_for(lambda: vouchers_per_claim(app, "EXP-PG-N-") == {"EXP-PG-N-0": 1}, "the first claim to post")

        def dropped_dead() -> bool:
            terminate(db_url, name)
            return not worker.alive

        wait_for(dropped_dead, "the plain worker to die of a dropped connection")
    finally:
        worker.kill()
    assert worker.proc.returncode != 0
    assert "OperationalError" in worker.text()
