"""Reading commands read a WAL snapshot on SQLite: a writer holding the lock does not hold them up.

The finding: `ledger balances`, `ledger reservations`, `incidents list` and both verifies took the
write lock (BEGIN IMMEDIATE) and, behind a long writer, failed after the 60 s busy timeout.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

READERS = [
    ["ledger", "balances"],
    ["ledger", "reservations"],
    ["ledger", "verify"],
    ["audit", "verify"],
    ["incidents", "list"],
    ["bpmn", "list"],
    ["info"],
]
PATIENCE_S = 30  # far below the 60 s busy timeout a writer-locked command would wait


def budgetflow(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A SQLite database with the demo company and a few bookings (``budgetflow demo``)."""
    folder = tmp_path_factory.mktemp("readers")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUDGETFLOW_")}
    env.update(BUDGETFLOW_INSTANCE_DIR=str(folder), BUDGETFLOW_DATABASE_URL=f"sqlite:///{folder / 'bf.db'}")
    done = budgetflow(env, "demo")
    assert done.returncode == 0, done.stderr
    return env


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_a_reading_command_does_not_wait_for_a_writer(demo_db: dict[str, str], command: list[str]):
    writer = sqlite3.connect(Path(demo_db["BUDGETFLOW_DATABASE_URL"].removeprefix("sqlite:///")),
                             isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # what any long write transaction holds
    try:
        done = budgetflow(demo_db, *command, timeout=PATIENCE_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"budgetflow {' '.join(command)} waited for the writer")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert done.returncode == 0, done.stderr
    assert "locked" not in done.stderr
