"""Database failures, produced for real, classified into one line without SQL, parameters or password."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from sqlalchemy import create_engine, insert, select, text

from engine.persistence.db import make_engine
from engine.persistence.db_errors import DatabaseProblem, classify, short_text
from engine.persistence.workflow_tables import OutboxJob, ProcessInstance
from engine.services import outbox
from engine.services.steps import record_failure
from engine.workflow.errors import StepFailed, outside_the_instance
from tests.engine_support import approved_claim

SECRET = "s3cret-VALUE-42"


def caught(action) -> BaseException:
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - the point is to look at it
        return exc
    raise AssertionError("no error")


def assert_one_clean_line(found: DatabaseProblem | None, kind: str, *, transient: bool) -> DatabaseProblem:
    assert found is not None and (found.kind, found.transient) == (kind, transient), found
    assert "\n" not in found.message and "[SQL" not in found.message and SECRET not in found.message
    return found


def test_sqlite_lock_read_only_and_missing_schema(tmp_path):
    path = tmp_path / "x.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")  # as budgetflow's databases are
    holder.execute("CREATE TABLE t (v TEXT)")
    holder.execute("BEGIN IMMEDIATE")
    engine = make_engine(f"sqlite:///{path}", busy_timeout=0.05)
    try:
        with engine.connect() as conn:
            locked = caught(lambda: conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": SECRET}))
        assert_one_clean_line(classify(locked), "locked", transient=True)
        holder.execute("ROLLBACK")
        with engine.connect() as conn:
            missing = caught(lambda: conn.execute(text("SELECT * FROM outbox_job WHERE id = :v"), {"v": SECRET}))
        assert "budgetflow init" in assert_one_clean_line(classify(missing), "no_schema", transient=False).message
    finally:
        engine.dispose()
        holder.close()
    read_only = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    written = caught(lambda: read_only.execute("INSERT INTO t VALUES (?)", (SECRET,)))
    assert_one_clean_line(classify(written), "read_only", transient=True)
    read_only.close()


def test_urls_drivers_and_other_errors():
    mysql = caught(lambda: create_engine("mysql://user:pw@host/db"))
    assert_one_clean_line(classify(mysql), "driver_missing", transient=False)
    for url in ("nosuchdialect://host/db", "not a url"):
        assert_one_clean_line(classify(caught(lambda u=url: create_engine(u))), "bad_url", transient=False)
    assert classify(ValueError("no database here")) is None
    assert short_text(ValueError("two\nlines")) == "ValueError: two lines"


@pytest.fixture
def pg_base(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL errors (set BUDGETFLOW_TEST_DATABASE_URL)")
    return db_url


def test_postgres_unreachable_unknown_database_dropped_connection(pg_base):
    closed_port = f"postgresql+psycopg://bob:{SECRET}@127.0.0.1:9/x"
    found = classify(caught(lambda: create_engine(closed_port).connect()), url=closed_port)
    assert "bob:***@127.0.0.1:9" in assert_one_clean_line(found, "unreachable", transient=True).message
    head, _, _tail = pg_base.partition("?")
    unknown = head.rsplit("/", 1)[0] + f"/no_such_db_{uuid.uuid4().hex[:6]}"
    assert_one_clean_line(classify(caught(lambda: create_engine(unknown).connect())), "bad_url", transient=False)
    engine = make_engine(pg_base)
    admin = create_engine(pg_base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            with admin.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            dropped = caught(lambda: conn.execute(text("SELECT :v"), {"v": SECRET}))
        assert_one_clean_line(classify(dropped), "connection_lost", transient=True)
        assert outside_the_instance(dropped)  # a step it stops is not the instance's failure
        with engine.connect() as conn:
            missing = caught(lambda: conn.execute(text("SELECT * FROM nowhere WHERE a = :v"), {"v": SECRET}))
        assert_one_clean_line(classify(missing), "no_schema", transient=False)
    finally:
        engine.dispose()
        admin.dispose()


class _BrokenConnector:
    """A connector whose own database write fails (a unique key, with a value that must not be stored)."""

    def __init__(self, engine):
        self.engine = engine

    def run(self, operator, params, *, key, **options):
        with self.engine.begin() as conn:
            job_id = conn.execute(select(OutboxJob.id)).scalars().first()
            conn.execute(insert(OutboxJob.__table__).values(id=job_id, instance_id=0, task_guid=SECRET,
                                                             operator="x", params="{}", idempotency_key=SECRET))
        return {}


def test_an_incident_stores_one_short_line_without_the_sql_or_its_values(app):
    approved_claim(app, "EXP-SHORT-1")
    outbox.run_due(app.uow, _BrokenConnector(app.engine), policy=outbox.RetryPolicy(max_attempts=1))
    with app.session_factory() as s:
        status, error = s.execute(select(OutboxJob.status, OutboxJob.last_error)).one()
    assert status == "incident"
    assert "\n" not in error and "[SQL" not in error and SECRET not in error and len(error) <= 500, error


def test_a_failed_step_caused_by_the_database_stores_one_short_line(app):
    approved_claim(app, "EXP-SHORT-2")
    with app.session_factory() as s:
        instance_id = s.scalar(select(ProcessInstance.id))
    with app.engine.connect() as conn:
        cause = caught(lambda: conn.execute(insert(ProcessInstance.__table__).values(
            id=instance_id, business_key=SECRET)))
    failed = StepFailed.of("approve", cause)
    failed.__cause__ = cause
    failed.details.update(instance_id=instance_id, document="EXP-SHORT-2")
    record_failure(app.uow, failed, actor="worker", stop_timers=True)
    with app.session_factory() as s:
        error = s.scalar(select(ProcessInstance.last_error).where(ProcessInstance.id == instance_id))
    assert error.startswith("approve: ") and "[SQL" not in error and SECRET not in error and "\n" not in error, error
