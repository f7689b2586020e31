"""The audit table and its writer: migration, append in the caller's transaction, triggers, one chain under
concurrent writers (and the negative control without the lock)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError

from engine.domain.audit import GENESIS_MAC, AuditRecord, chain_hmac
from engine.persistence import audit_repository
from engine.persistence.audit_repository import NewEntry
from engine.persistence.tables import Base, Currency
from engine.services.audit import verify
from tests.audit_support import AUDIT, KEY, T0, hammer, stored_rows


def test_migration_matches_the_model(container):
    with container.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if "audit_log" in repr(d)] == []


def test_append_commits_and_rolls_back_with_the_callers_transaction(container):
    with container.session_factory() as s:
        s.add(Currency(code="EUR", name="Euro", minor_units=2))
        audit_repository.append(s, KEY, actor="alice", action="currency.add", subject_type="currency",
                                subject_id="EUR")
        s.rollback()
    assert stored_rows(container) == []
    with container.session_factory() as s:
        s.add(Currency(code="EUR", name="Euro", minor_units=2))
        first = audit_repository.append(s, KEY, actor="alice", action="currency.add", subject_type="currency",
                                        subject_id="EUR", payload={"minor_units": 2, "at": T0})
        second = audit_repository.append(s, KEY, actor="bob", action="claim.approve", subject_type="claim",
                                         subject_id="EXP-1", payload={"amount": Decimal("1234.50")})
        s.commit()
    stored = stored_rows(container)
    assert [r.record for r in stored] == [first, second]
    assert second.payload == {"amount": "1234.50"}
    assert stored[1].prev_mac == stored[0].mac and stored[0].prev_mac == GENESIS_MAC
    assert verify(stored, KEY).ok


def test_triggers_refuse_update_and_delete(container):
    with container.session_factory() as s:
        audit_repository.append(s, KEY, actor="alice", action="x", subject_type="t", subject_id="1")
        s.commit()
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with container.session_factory() as s, pytest.raises(DBAPIError, match="append-only"):
            s.execute(text(statement))
    assert [r.record.actor for r in stored_rows(container)] == ["alice"]


@pytest.mark.slow
def test_concurrent_appends_form_one_valid_chain(container):
    errors = hammer(container, audit_repository.append)
    rows = stored_rows(container)
    assert errors == []
    assert [r.record.seq for r in rows] == list(range(1, 201))
    assert verify(rows, KEY).ok


def _append_without_lock(session, key, **fields) -> AuditRecord:
    """The naive version: read the head and insert, with no lock in between (negative control)."""
    head = audit_repository.read_head(session)
    time.sleep(0.002)  # widen the window the lock exists to close
    entry = NewEntry(**fields)
    record, payload_text = audit_repository._record(head.seq + 1, entry)
    mac = chain_hmac(key, head.mac, record)
    session.execute(insert(AUDIT).values(audit_repository._row(record, payload_text, head.mac, mac)))
    return record


@pytest.mark.slow
def test_without_the_lock_concurrent_appends_collide(container, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises whole transactions (BEGIN IMMEDIATE); there is no per-append lock to omit")
    errors = hammer(container, _append_without_lock)
    # Two appends chained onto the same head: the unique seq turns the fork into a failed
    # transaction (the business change it carried is lost); the lock is what prevents it.
    assert errors, "expected duplicate-seq collisions without the advisory lock"
    assert all("seq" in str(e.orig) or "unique" in str(e.orig).lower() for e in errors)
    assert verify(stored_rows(container), KEY).ok
