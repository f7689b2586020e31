"""Writes held back on PostgreSQL (engine/persistence/deferred.py) and the unit of work's audit commit path.

Each claim comes with a negative control: the same test with the mechanism broken on purpose fails.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import literal, select
from sqlalchemy.exc import IntegrityError

from engine.persistence import audit_repository
from engine.persistence.prepared import BEFORE_STATEMENT, QUEUED_WRITES, Prepared
from engine.persistence.unit_of_work import SqlUnitOfWork
from engine.services.audit import verify
from tests.audit_support import KEY, run_together, stored_rows


def _uow(container) -> SqlUnitOfWork:
    return SqlUnitOfWork(container.engine, lambda: KEY)


def _claimed_then_released(container, *, flush_before_reads: bool) -> str | None:
    with _uow(container) as uow:
        uow.claims.claim_invoices("EC-1", [("0110", "42")])
        uow.commit()
    with _uow(container) as uow:
        uow.claims.release_invoices("EC-1")  # held back on PostgreSQL
        if not flush_before_reads:  # break it: reads no longer send the queue first (the write stays queued)
            uow.conn.info.pop(BEFORE_STATEMENT)
            uow.conn.info.pop(QUEUED_WRITES)
        return uow.claims.claimed_by("0110", "42")


def test_a_read_sees_the_writes_held_back_before_it(container):
    assert _claimed_then_released(container, flush_before_reads=True) is None


def test_negative_control_without_the_flush_a_read_misses_a_held_back_write(container, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite runs every write at once; nothing is held back")
    assert _claimed_then_released(container, flush_before_reads=False) == "EC-1"


def test_a_held_back_write_that_fails_its_check_rolls_the_whole_transaction_back(container):
    with _uow(container) as uow:
        uow.claims.claim_invoices("EC-2", [("0110", "43")])
        uow.commit()
    from engine.persistence import deferred
    from engine.persistence.claim_repository import _RELEASE_INVOICES

    def refuse(count: int) -> None:
        raise RuntimeError(f"deleted {count} rows")

    with _uow(container) as uow, pytest.raises(RuntimeError, match="deleted 1 rows"):
        uow.record(actor="t", action="test", subject_type="t", subject_id="1")
        deferred.write(uow.conn, _RELEASE_INVOICES, {"document": "EC-2"}, check=refuse)
        uow.commit()
    with _uow(container) as uow:
        assert uow.claims.claimed_by("0110", "43") == "EC-2"
    assert [r.record.action for r in stored_rows(container)].count("test") == 0


def _commit_concurrently(container, threads: int = 6, each: int = 20) -> list[Exception]:
    barrier, errors = threading.Barrier(threads), []
    refused = (IntegrityError, container.engine.dialect.loaded_dbapi.IntegrityError)  # raw cursors raise the driver's

    def work(worker: int) -> None:
        barrier.wait()
        for i in range(each):
            try:
                with _uow(container) as uow:
                    uow.claims.release_invoices(f"EC-{worker}-{i}")  # a held-back write rides with the lock
                    uow.record(actor=f"worker{worker}", action="task.completed", subject_type="task",
                               subject_id=f"{worker}-{i}", payload={"i": i})
                    uow.commit()
            except refused as exc:
                errors.append(exc)

    run_together(threads, work)
    return errors


@pytest.mark.slow
def test_concurrent_unit_of_work_commits_form_one_valid_chain(container):
    errors = _commit_concurrently(container)
    rows = stored_rows(container)
    assert errors == []
    assert [r.record.seq for r in rows] == list(range(1, 121))
    assert verify(rows, KEY).ok


@pytest.mark.slow
def test_negative_control_without_the_lock_the_commit_path_collides(container, db_url, monkeypatch):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises whole transactions (BEGIN IMMEDIATE); there is no per-append lock to omit")
    monkeypatch.setattr(audit_repository, "_LOCK", Prepared(select(literal(1))))  # break it: no append lock
    chained = audit_repository._chained

    def slowly(*args):
        time.sleep(0.002)  # widen the window the lock exists to close
        return chained(*args)

    monkeypatch.setattr(audit_repository, "_chained", slowly)
    errors = _commit_concurrently(container)
    assert errors, "expected duplicate-seq collisions without the advisory lock"
    assert all("audit_log_seq" in str(e) for e in errors)
    assert verify(stored_rows(container), KEY).ok  # the unique seq refused every fork


def _released_then_rolled_back(container) -> str | None:
    with _uow(container) as uow:
        uow.claims.claim_invoices("EC-3", [("0110", "44")])
        uow.commit()
    with _uow(container) as uow:
        uow.claims.release_invoices("EC-3")  # held back on PostgreSQL
        uow.rollback()
        uow.record(actor="t", action="test", subject_type="t", subject_id="3")
        uow.commit()  # a later transaction of the same unit of work
    with _uow(container) as uow:
        return uow.claims.claimed_by("0110", "44")


def test_a_rolled_back_write_is_not_sent_by_a_later_transaction(container):
    assert _released_then_rolled_back(container) == "EC-3"


def test_negative_control_a_queue_kept_over_a_rollback_leaks_into_the_next_commit(container, db_url, monkeypatch):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite runs every write at once; nothing is held back")
    from engine.persistence.deferred import DeferredWrites

    monkeypatch.setattr(DeferredWrites, "discard", lambda self: None)  # break it
    assert _released_then_rolled_back(container) is None


def _reserved_then_rolled_back(container) -> int:
    """A reservation queued by the ledger (PostgreSQL) and rolled back; then a later commit of the same unit."""
    from engine.bench.scratch_line import make_scratch_line
    from engine.domain.money import Money
    from engine.persistence.tables import Reservation
    from engine.services.ledger import reserve_in

    line_id = make_scratch_line(container, "1000")
    with _uow(container) as uow:
        reserve_in(uow.ledger, line_id=line_id, amount=Money.of("10.00", "CNY"), key="rolled-back-1", document="D1")
        uow.rollback()
        uow.record(actor="t", action="test", subject_type="t", subject_id="4")
        uow.commit()
    with container.session_factory() as s:
        return s.query(Reservation).filter_by(line_id=line_id).count()


def test_a_rolled_back_reservation_is_not_sent_by_a_later_commit(container):
    assert _reserved_then_rolled_back(container) == 0


def test_negative_control_a_ledger_queue_kept_over_a_rollback_leaks_into_the_next_commit(container, db_url,
                                                                                          monkeypatch):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite runs every write at once; nothing is held back")
    from engine.domain.errors import IdempotencyConflict
    from engine.persistence.ledger_repository import SqlLedgerRepository

    monkeypatch.setattr(SqlLedgerRepository, "discard", lambda self: None)  # break it
    # The later commit sends the rolled-back booking's writes; the reservation they refer to was rolled
    # back, so the commit fails on them (the user's unrelated transaction is lost).
    with pytest.raises(IdempotencyConflict):
        _reserved_then_rolled_back(container)
