"""One line and the documented exit code for every failure the command line knows; never a traceback.

The exceptions are real: raised by SQLite, PostgreSQL, SQLAlchemy and the settings themselves.
"""

from __future__ import annotations

import os
import sqlite3

import pytest
from sqlalchemy import create_engine, text

from engine.cli.failures import explain
from engine.config import Settings
from engine.domain.errors import BudgetInsufficient
from tests.cli.support import run

PG_ENV = "BUDGETFLOW_TEST_DATABASE_URL"


def raised(action) -> BaseException:
    try:
        action()
    except Exception as exc:  # the failure under test
        return exc
    raise AssertionError("nothing was raised")


def one_line(message: str) -> None:
    assert "\n" not in message and "Traceback" not in message and "[SQL:" not in message, message


def execute(url: str, statement: str, **connect_args):
    engine = create_engine(url, connect_args=connect_args)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def test_a_database_without_tables_says_run_init(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    message, code = explain(raised(lambda: execute(url, "SELECT * FROM budget_line")), url)
    assert code == 2 and message.startswith("database not initialised") and "budgetflow init" in message
    one_line(message)


def test_a_driver_error_raised_directly_is_read_the_same_way(tmp_path):
    """Prepared statements run on the DB-API cursor: their errors are the driver's, not SQLAlchemy's."""
    path = tmp_path / "empty.db"
    message, code = explain(raised(lambda: sqlite3.connect(path).execute("SELECT * FROM outbox_job")), "sqlite:///x")
    assert code == 2 and message.startswith("database not initialised")


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} not set")
def test_postgresql_without_tables_says_run_init():
    url = os.environ[PG_ENV].replace("postgresql://", "postgresql+psycopg://")
    message, code = explain(raised(lambda: execute(url, "SELECT * FROM no_such_table_here")), url)
    assert code == 2 and message.startswith("database not initialised")


def test_a_locked_sqlite_database(tmp_path):
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        url = f"sqlite:///{path}"
        exc = raised(lambda: execute(url, "CREATE TABLE t (x INTEGER)", timeout=0.05))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    message, code = explain(exc, url)
    assert code == 1 and message.startswith("database is locked")
    one_line(message)


def test_a_read_only_sqlite_database(tmp_path):
    path = tmp_path / "ro.db"
    sqlite3.connect(path).close()
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    message, code = explain(raised(lambda: execute(url, "CREATE TABLE t (x INTEGER)")), url)
    assert code == 1 and "is read-only" in message


def test_an_unreachable_server_and_a_password_are_never_shown():
    url = "postgresql+psycopg://app:s3cret@127.0.0.1:1/budget"
    message, code = explain(raised(lambda: execute(url, "SELECT 1", connect_timeout=5)), url)
    assert code == 1 and message.startswith("cannot reach the database at postgresql+psycopg://app:***@127.0.0.1:1")
    assert "s3cret" not in message
    one_line(message)


@pytest.mark.parametrize(("url", "start"), [
    ("not a url", "BUDGETFLOW_DATABASE_URL ("),
    ("nosuchdialect://x/y", "BUDGETFLOW_DATABASE_URL ("),
    ("mysql://nobody@localhost/budget", "the database driver for mysql://nobody@localhost/budget is not installed"),
])
def test_a_bad_url_or_a_missing_driver_is_a_configuration_error(url, start):
    message, code = explain(raised(lambda: create_engine(url)), url)
    assert code == 2 and message.startswith(start), message
    one_line(message)


def test_a_malformed_setting_is_a_configuration_error():
    exc = raised(lambda: Settings.from_env({"BUDGETFLOW_OUTBOX_MAX_ATTEMPTS": "abc"}))
    assert explain(exc, None) == (
        "configuration: BUDGETFLOW_OUTBOX_MAX_ATTEMPTS='abc' is not a whole number (default 5); fix or unset it", 2)


def test_a_refusal_by_the_rules_keeps_exit_2_and_an_unknown_error_is_internal():
    assert explain(BudgetInsufficient("line 2026/ORG:HR/OFFICE has 10.00 left"), None) == (
        "line 2026/ORG:HR/OFFICE has 10.00 left", 2)
    message, code = explain(KeyError("state"), None)
    assert code == 1 and message == "internal error: KeyError: 'state'; set BUDGETFLOW_DEBUG=1 for the traceback"


# ---------------------------------------------------------------- through the command line


def test_a_reading_command_before_init_prints_one_line(tmp_path, monkeypatch, capsys):
    env = {"BUDGETFLOW_INSTANCE_DIR": str(tmp_path)}
    for args in (["ledger", "balances"], ["bpmn", "list"], ["incidents", "list"], ["ledger", "verify", "--json"],
                 ["ledger", "release", "1", "--by", "E0002", "--reason", "left over"]):
        done = run(monkeypatch, capsys, env, *args)
        assert done.code == 2 and done.out == "", args
        [line] = done.err.splitlines()
        assert line.startswith("error: database not initialised") and "run `budgetflow init`" in line, line


def test_a_malformed_setting_and_a_bad_url_print_one_line(tmp_path, monkeypatch, capsys):
    bad_number = run(monkeypatch, capsys, {"BUDGETFLOW_INSTANCE_DIR": str(tmp_path),
                                           "BUDGETFLOW_OUTBOX_MAX_ATTEMPTS": "abc"}, "ledger", "balances")
    assert bad_number.code == 2
    assert bad_number.err == ("error: configuration: BUDGETFLOW_OUTBOX_MAX_ATTEMPTS='abc' is not a whole number "
                              "(default 5); fix or unset it\n")
    missing_driver = run(monkeypatch, capsys, {"BUDGETFLOW_DATABASE_URL": "mysql://u:pw@db/x"}, "bpmn", "list")
    assert missing_driver.code == 2 and len(missing_driver.err.splitlines()) == 1
    assert "u:***@db" in missing_driver.err and ":pw@" not in missing_driver.err
    help_still_works = run(monkeypatch, capsys, {"BUDGETFLOW_OUTBOX_MAX_ATTEMPTS": "abc"}, "--help")
    assert help_still_works.code == 0


def test_debug_shows_the_traceback_instead(tmp_path, monkeypatch, capsys):
    env = {"BUDGETFLOW_INSTANCE_DIR": str(tmp_path), "BUDGETFLOW_DEBUG": "1"}
    with pytest.raises(Exception, match="budgetflow.db does not exist"):
        run(monkeypatch, capsys, env, "ledger", "balances")
