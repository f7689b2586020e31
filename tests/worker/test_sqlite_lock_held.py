"""Acceptance: another process holds SQLite's write lock for longer than the busy timeout; the worker logs the
outage once, keeps running, and once the lock is free every claim posts exactly once."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.engine_support import approved_claim
from tests.worker.support import (
    HANG,
    Worker,
    jobs_and_instances,
    verify_ledger_and_audit,
    vouchers_per_claim,
    wait_for,
)

pytestmark = pytest.mark.slow
BATCH = 5
HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")  # the write lock, as a long transaction or a stuck tool would hold it
print("locked", flush=True)
sys.stdin.readline()  # until the test says so
conn.execute("ROLLBACK")
"""


class LockHolder:
    def __init__(self, db_url: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", HOLDER, db_url.removeprefix("sqlite:///")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.communicate("\n", timeout=HANG)
        assert self.proc.returncode == 0


@pytest.fixture
def sqlite_env(db_url, cli_env):
    if not db_url.startswith("sqlite"):
        pytest.skip("holds SQLite's file lock")
    return {**cli_env, "BUDGETFLOW_SQLITE_BUSY_TIMEOUT_SECONDS": "2"}  # 60 s by default


def test_the_worker_waits_out_a_lock_held_past_the_busy_timeout_and_every_claim_posts_once(
        app, sqlite_env, db_url, tmp_path):
    worker = Worker(sqlite_env, tmp_path / "worker.log")
    try:
        wait_for(lambda: "budgetflow.worker" in worker.text(), "the worker to start")
        for n in range(BATCH):
            approved_claim(app, f"EXP-L-A{n}")
        wait_for(lambda: len(vouchers_per_claim(app, "EXP-L-A")) == BATCH or not worker.alive, "batch A to post")
        holder = LockHolder(db_url)
        try:
            wait_for(lambda: "database outage" in worker.text() or not worker.alive, "the outage to be logged")
            time.sleep(2.5)  # longer than a busy timeout again: more failed tries, still one line in the log
            assert worker.alive, worker.text()[-3000:]
        finally:
            holder.release()
        for n in range(BATCH):
            approved_claim(app, f"EXP-L-B{n}")
        wait_for(lambda: jobs_and_instances(app)[0] == {"done": 2 * BATCH} or not worker.alive, "every job done")
        wait_for(lambda: "database back after" in worker.text() or not worker.alive, "the outage to end")
        assert worker.alive, worker.text()[-3000:]
    finally:
        code = worker.stop()
    log = worker.text()
    assert code == 0, log[-3000:]
    expected = {f"EXP-L-{batch}{n}": 1 for batch in "AB" for n in range(BATCH)}
    assert vouchers_per_claim(app, "EXP-L-") == expected
    assert jobs_and_instances(app) == ({"done": 2 * BATCH}, {"complete": 2 * BATCH})
    assert log.count("database outage") == 1 and log.count("database back after") == 1, log[-3000:]
    assert "database outage [locked]" in log and "Traceback" not in log and "[SQL:" not in log
    verify_ledger_and_audit(sqlite_env)


def test_negative_control_a_worker_without_the_outage_handling_dies_of_the_held_lock(app, sqlite_env, db_url,
                                                                                     tmp_path):
    worker = Worker(sqlite_env, tmp_path / "plain.log", plain=True)
    holder = None
    try:
        wait_for(lambda: "plain worker started" in worker.text(), "the plain worker to start")
        holder = LockHolder(db_url)
        wait_for(lambda: not worker.alive, "the plain worker to die of the held lock")
    finally:
        if holder is not None:
            holder.release()
        worker.kill()
    assert worker.proc.returncode != 0
    assert "database is locked" in worker.text()
