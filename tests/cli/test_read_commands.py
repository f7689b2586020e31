"""Reading commands answer while another process holds SQLite's write lock (issue 8, finding 4).

They read through ``Container.reader()``: a deferred BEGIN on a WAL database, which takes
no write lock and waits for no writer. Before, each waited for the busy timeout (60 s)
and failed with ``database is locked [SQL: BEGIN IMMEDIATE]``.
"""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from engine.bootstrap import build
from engine.config import Settings
from engine.services.masterdata.importing import seed_demo
from tests.cli.support import run

READERS = (["ledger", "balances"], ["ledger", "reservations"], ["ledger", "verify"], ["incidents", "list"],
           ["bpmn", "list"], ["tasks", "orphaned"], ["info"])


@pytest.fixture
def held_database(sqlite_template, tmp_path):
    """A demo database whose write lock another connection holds for the whole test."""
    path = tmp_path / "budgetflow.db"
    shutil.copyfile(sqlite_template, path)
    container = build(Settings(instance_dir=tmp_path, database_url=f"sqlite:///{path}"))
    seed_demo(container.masterdata_store)
    container.dispose()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE budget_line SET budget = budget WHERE id = 1")  # a writer, mid-transaction
    yield path
    holder.execute("ROLLBACK")
    holder.close()


def test_negative_control_the_lock_is_really_held(held_database):
    writer = sqlite3.connect(held_database, timeout=0.1, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        writer.execute("BEGIN IMMEDIATE")
    writer.close()


@pytest.mark.parametrize("args", READERS, ids=[" ".join(a) for a in READERS])
def test_reading_commands_do_not_wait_for_the_writer(held_database, tmp_path, args, monkeypatch, capsys):
    env = {"BUDGETFLOW_DATABASE_URL": f"sqlite:///{held_database}", "BUDGETFLOW_INSTANCE_DIR": str(tmp_path)}
    done = run(monkeypatch, capsys, env, *args, "--json")
    assert done.code == 0, done.err
    assert json.loads(done.out)
