"""The worker's loop and entry point with real database errors: outages waited out and logged once,
configuration errors raised, one job's bug kept from the others; stopping between jobs."""

from __future__ import annotations

import logging
import sqlite3
import threading

import pytest
from sqlalchemy import text

from engine.config import Settings
from engine.persistence.db import make_engine
from engine.worker import DatabaseUnusable, run
from engine.worker.backoff import Backoff
from engine.worker.jobs import PeriodicJob
from engine.worker.loop import Loop

FAST = Backoff(base=0.001, cap=0.004)


@pytest.fixture
def locked_db(tmp_path):
    """A SQLite file whose write lock another connection holds; ``release()`` frees it."""
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE t (v INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    engine = make_engine(f"sqlite:///{path}", busy_timeout=0.01)
    yield engine, lambda: holder.execute("ROLLBACK")
    engine.dispose()
    holder.close()


def write(engine) -> int:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    return 0


def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends(locked_db, caplog):
    engine, release = locked_db
    stop, tries = threading.Event(), []

    def job() -> int:
        tries.append(1)
        if len(tries) == 5:
            release()  # the other process lets go after four failed tries
        write(engine)
        stop.set()
        return 0

    loop = Loop([PeriodicJob("outbox", 0.0, job)], url="sqlite:///locked.db", stop=stop, poll=0.001, backoff=FAST,
                reset_pool=engine.dispose)
    with caplog.at_level(logging.INFO, logger="budgetflow.worker"):
        loop.run_forever()
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(tries) == 5
    assert len(lines) == 2, lines
    assert lines[0].startswith("database outage [locked]: database locked (sqlite:///locked.db)")
    assert lines[1].startswith("database back after ") and lines[1].endswith("[locked]")


def test_a_database_without_the_schema_is_fatal(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")

    def job() -> int:
        with engine.connect() as conn:
            conn.execute(text("SELECT * FROM outbox_job"))
        return 0

    loop = Loop([PeriodicJob("outbox", 0.0, job)], url="sqlite:///empty.db", stop=threading.Event(), backoff=FAST)
    with pytest.raises(DatabaseUnusable, match="budgetflow init") as raised:
        loop.run_forever()
    assert raised.value.problem.kind == "no_schema"
    engine.dispose()


def test_one_jobs_bug_is_logged_once_and_backed_off_while_the_others_run(caplog):
    stop, now, ran = threading.Event(), [0.0], []

    def broken() -> int:
        raise KeyError("missing")

    def healthy() -> int:
        ran.append(now[0])
        now[0] += 1.0
        if len(ran) == 5:
            stop.set()
        return 0

    jobs = [PeriodicJob("broken", 0.0, broken), PeriodicJob("healthy", 0.0, healthy)]
    loop = Loop(jobs, url="sqlite://", stop=stop, poll=0.0, backoff=FAST, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="budgetflow.worker"):
        loop.run_forever()
    assert len(ran) == 5
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "job broken failed" in errors[0].getMessage()  # not once per pass
    assert jobs[0].failures >= 2 and jobs[0].next_at > now[0] - 1  # backed off: it skipped passes


def test_run_refuses_a_database_without_schema_and_a_bad_url_in_one_line(tmp_path):
    for url, kind in ((f"sqlite:///{tmp_path / 'new.db'}", "no_schema"), ("mysql://u:pw@h/db", "driver_missing"),
                      ("nosuchdialect://h/db", "bad_url")):
        for once in (True, False):
            with pytest.raises(DatabaseUnusable) as raised:
                run(Settings(instance_dir=tmp_path, database_url=url), once=once, stop=threading.Event())
            assert raised.value.problem.kind == kind and "\n" not in str(raised.value)


def test_run_once_and_run_until_stopped(container, caplog):
    settings = container.settings
    with caplog.at_level(logging.INFO, logger="budgetflow.worker"):
        assert run(settings, once=True) == 0
    assert any(r.getMessage().startswith("worker --once: outbox 0, timers 0") for r in caplog.records)
    banner = next(r.getMessage() for r in caplog.records if "worker" in r.getMessage() and "poll" in r.getMessage())
    assert "instance folder" in banner and "database" in banner
    stop = threading.Event()
    worker = threading.Thread(target=lambda: run(settings, poll_seconds=0.01, stop=stop))
    worker.start()
    stop.set()  # what SIGTERM does in the main thread
    worker.join(timeout=120)
    assert not worker.is_alive()


class _LosesTheDatabaseOnce:
    """A connector whose first call meets a real 'database is locked' (as if our database went away mid-job)."""

    def __init__(self, inner, engine) -> None:
        self.inner, self.engine, self.calls = inner, engine, 0

    def run(self, operator, params, *, key, **options):
        self.calls += 1
        if self.calls == 1:
            write(self.engine)
        return self.inner.run(operator, params, key=key, **options)


def test_a_job_interrupted_by_an_outage_gets_its_attempt_back_and_runs_again(app, locked_db):
    from sqlalchemy import select

    from engine.persistence.workflow_tables import OutboxJob
    from engine.services import outbox
    from engine.worker.jobs import OutboxRun
    from tests.engine_support import approved_claim

    engine, _release = locked_db
    approved_claim(app, "EXP-GIVE-1")
    job = OutboxRun(app, threading.Event())
    job.runner = _LosesTheDatabaseOnce(app.job_runner(), engine)
    with pytest.raises(outbox.JobInterrupted) as raised:
        job()
    assert raised.value.attempts == 1 and "locked" in str(raised.value.__cause__)
    with app.session_factory() as s:
        assert s.execute(select(OutboxJob.attempts, OutboxJob.locked_until.is_not(None))).one() == (1, True)
    assert job() == 1  # after the outage: the attempt is given back, the job runs at once (no lease to wait out)
    with app.session_factory() as s:
        assert s.execute(select(OutboxJob.status, OutboxJob.attempts)).one() == ("done", 1)
