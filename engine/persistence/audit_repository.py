"""Appending to and reading the audit chain.

``append`` runs inside the caller's transaction: the audit row commits or rolls back
together with the business change it describes. Appends must be serialised, because
each one reads the head (seq, MAC) and chains onto it:

* PostgreSQL: a transaction-scoped advisory lock, taken before reading the head and held
  until the caller commits. Under READ COMMITTED (the default) the next statement after
  the lock sees the previous holder's committed row. The unique ``seq`` is the backstop:
  a stale head (e.g. under REPEATABLE READ) fails the insert rather than forking the chain.
* SQLite: every transaction starts with BEGIN IMMEDIATE (engine.persistence.db), so the
  database write lock already serialises appends.

The lock is held until commit, so append the audit row as the *last* write before
committing: it keeps the serialised section short, and always taking the audit lock after
any row locks avoids lock-order deadlocks with other writers.

A unit of work commits through ``append_and_commit``: on PostgreSQL its held-back writes
(deferred.py), the lock and the head read go in one round trip, the rows and COMMIT in a second.
The lock is then held for one round trip plus the commit's WAL flush, where four statements one
after the other held it before; the chain itself (one head, gap-free seq, each MAC on the one
before) is built exactly as ``append_many`` builds it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.orm import Session

from engine.domain.audit import GENESIS_MAC, Anchor, AuditRecord, StoredEntry, canonical_payload, chain_hmac
from engine.persistence.audit_table import AuditLog
from engine.persistence.db import read_only
from engine.persistence.deferred import DeferredWrites
from engine.persistence.prepared import Prepared, driver_connection
from engine.persistence.types import utcnow

_audit = AuditLog.__table__

# pg_advisory_xact_lock(class, object): the class is a constant only audit appends use ("BFAU" in ASCII),
# the object the hash of the schema, because advisory locks are database-wide and each schema holds
# its own chain (deployments or test runs side by side in one database must not queue on each other).
AUDIT_LOCK_KEY = 0x4246_4155

# Every committed step appends here, so these run as Prepared statements (see prepared.py).
_LOCK = Prepared(select(func.pg_advisory_xact_lock(AUDIT_LOCK_KEY, func.hashtext(func.current_schema()))))
_HEAD = Prepared(select(_audit.c.seq, _audit.c.mac).order_by(_audit.c.seq.desc()).limit(1))
_INSERT = Prepared(insert(_audit), column_keys=[
    "seq", "occurred_at", "actor", "action", "subject_type", "subject_id", "payload", "prev_mac", "mac"])


@dataclass(frozen=True, slots=True)
class NewEntry:
    """What a caller supplies; seq and MACs are assigned by the repository."""

    actor: str
    action: str
    subject_type: str
    subject_id: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None  # now, if not given


def append(
    session: Session, key: bytes, *, actor: str, action: str, subject_type: str, subject_id: str,
    payload: Mapping[str, Any] | None = None, occurred_at: datetime | None = None,
) -> AuditRecord:
    """Append one entry in the session's transaction (the caller commits) and return it."""
    entry = NewEntry(actor, action, subject_type, subject_id, payload or {}, occurred_at)
    return append_many(session, key, [entry])[0]


def append_many(session: Session | Connection, key: bytes, entries: Sequence[NewEntry]) -> list[AuditRecord]:
    """Append several entries under one lock and one head read: the bulk path, same chain."""
    if not entries:
        return []
    conn = _connection(session)
    records, rows = _chained(key, _lock_and_read_head(conn), entries)
    _INSERT.many(conn, rows)
    return records


def append_and_commit(conn: Connection, key: bytes, entries: Sequence[NewEntry], *,
                      queued: DeferredWrites | None = None) -> list[AuditRecord]:
    """``append_many``, then COMMIT: the unit of work's last act.

    On PostgreSQL in two round trips: ``queued`` (the transaction's held-back writes), the lock and
    the head read in one pipeline; the rows and COMMIT in another. The lock is then held for one
    round trip and the commit, not for four statements one after the other.
    """
    if conn.dialect.name != "postgresql" or not entries:
        records = append_many(conn, key, entries)
        if queued is not None:
            queued.commit()
        return records
    records, rows = _chained(key, _lock_and_read_head(conn, queued), entries)
    with driver_connection(conn).pipeline():
        _INSERT.many(conn, rows)
        driver_connection(conn).cursor().execute("COMMIT")  # in the pipeline: no round trip of its own
    return records


def _chained(key: bytes, head: Anchor, entries: Sequence[NewEntry]) -> tuple[list[AuditRecord], list[dict[str, Any]]]:
    """The records after ``head`` and their rows, each MAC chained onto the one before."""
    seq, prev_mac = head.seq, head.mac
    rows: list[dict[str, Any]] = []
    records: list[AuditRecord] = []
    for entry in entries:
        seq += 1
        record, payload_text = _record(seq, entry)
        mac = chain_hmac(key, prev_mac, record, payload_text=payload_text)
        rows.append(_row(record, payload_text, prev_mac, mac))
        records.append(record)
        prev_mac = mac
    return records, rows


def _lock_and_read_head(conn: Connection, queued: DeferredWrites | None = None) -> Anchor:
    """Take the append lock, then read the head (with ``queued`` sent first, on PostgreSQL all one round trip).

    Two statements even in one pipeline: under READ COMMITTED each takes its own snapshot, so the
    head is read only once the lock is held and sees the row its previous holder committed.
    """
    if conn.dialect.name != "postgresql":
        return read_head(conn)
    with driver_connection(conn).pipeline():
        sent = queued.send() if queued is not None else []
        _LOCK.execute(conn, {})
        cursor = _HEAD.execute(conn, {})
    if queued is not None:
        queued.verify(sent)
    row = _HEAD.read(conn, cursor.fetchone())
    return Anchor(0, GENESIS_MAC) if row is None else Anchor(int(row[0]), row[1])


def lock_appends(session: Session | Connection) -> None:
    """Serialise audit appends until this transaction ends (PostgreSQL; SQLite is serialised already)."""
    conn = _connection(session)
    if conn.dialect.name == "postgresql":
        _LOCK.execute(conn, {})


def read_head(session: Session | Connection) -> Anchor:
    """The stored head (seq, MAC), or the genesis anchor when the log is empty. Not verified."""
    conn = _connection(session)
    row = _HEAD.first(conn, {})
    return Anchor(0, GENESIS_MAC) if row is None else Anchor(int(row[0]), row[1])


def iter_rows(session: Session | Connection, batch: int = 5000, *, from_seq: int | None = None
              ) -> Iterator[StoredEntry]:
    """Every row in seq order (from ``from_seq`` on, if given), streamed (server-side cursor on PostgreSQL).

    One ordered scan rather than keyset pages: paging on ``seq > last`` would skip a
    duplicated seq, hiding an inserted row from the verifier if the unique index were dropped.
    Without ``from_seq`` there is no WHERE at all, so even rows with odd (negative) seqs are seen.
    """
    stmt = (
        select(_audit.c.seq, _audit.c.occurred_at, _audit.c.actor, _audit.c.action, _audit.c.subject_type,
               _audit.c.subject_id, _audit.c.payload, _audit.c.prev_mac, _audit.c.mac)
        .order_by(_audit.c.seq, _audit.c.id)
        .execution_options(yield_per=batch)
    )
    if from_seq is not None:
        stmt = stmt.where(_audit.c.seq >= from_seq)
    for row in session.execute(stmt):
        yield StoredEntry(
            record=AuditRecord(
                seq=int(row.seq), occurred_at=row.occurred_at, actor=row.actor, action=row.action,
                subject_type=row.subject_type, subject_id=row.subject_id, payload=_load_payload(row.payload),
            ),
            prev_mac=row.prev_mac, mac=row.mac,
        )


def stream_rows(engine: Engine, from_seq: int | None = None, batch: int = 5000) -> Iterator[StoredEntry]:
    """``iter_rows`` on a connection of its own that only reads, closed when the stream ends.

    One statement, so one snapshot: appends are serialised and commit in seq order (see the
    module docstring), so what a snapshot sees is always a prefix of the chain, whatever is
    appended while the scan runs. On SQLite the read-only connection takes no write lock, so
    writers are not held up by a verify.
    """
    with engine.connect() as conn:
        yield from iter_rows(read_only(conn), batch, from_seq=from_seq)


def count_rows(engine: Engine) -> int:
    """How many rows the log holds, read on a connection of its own (callers may be inside a write)."""
    with engine.connect() as conn:
        return int(read_only(conn).execute(select(func.count()).select_from(_audit)).scalar_one())


def _connection(session: Session | Connection) -> Connection:
    """The Connection under ``session`` (prepared statements run on its DB-API cursor)."""
    return session if isinstance(session, Connection) else session.connection()


def _record(seq: int, entry: NewEntry) -> tuple[AuditRecord, str]:
    """The record and its payload's canonical text, encoded once for the MAC and the row.

    The record keeps the parsed text, so it is exactly what the verifier will rebuild from the table.
    """
    text = canonical_payload(entry.payload)
    record = AuditRecord(
        seq=seq, occurred_at=entry.occurred_at or utcnow(), actor=entry.actor, action=entry.action,
        subject_type=entry.subject_type, subject_id=entry.subject_id, payload=json.loads(text),
    )
    return record, text


def _row(record: AuditRecord, payload_text: str, prev_mac: str, mac: str) -> dict[str, Any]:
    return {
        "seq": record.seq, "occurred_at": record.occurred_at, "actor": record.actor, "action": record.action,
        "subject_type": record.subject_type, "subject_id": record.subject_id,
        "payload": payload_text, "prev_mac": prev_mac, "mac": mac,
    }


def _load_payload(text: str) -> Mapping[str, Any]:
    """The stored payload; text that is not a JSON object still reaches the verifier (as a mismatch)."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return {"__unparseable__": text}
    return value if isinstance(value, dict) else {"__not_an_object__": value}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid in an audit payload")
