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
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.orm import Session

from engine.domain.audit import GENESIS_MAC, Anchor, AuditRecord, StoredEntry, canonical_payload, chain_hmac
from engine.persistence.audit_table import AuditLog
from engine.persistence.types import utcnow

_audit = AuditLog.__table__

# pg_advisory_xact_lock key: an arbitrary constant that only audit appends use ("BFAUDIT1" in ASCII).
AUDIT_LOCK_KEY = 0x4246_4155_4449_5431


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


def append_many(session: Session, key: bytes, entries: Sequence[NewEntry]) -> list[AuditRecord]:
    """Append several entries under one lock and one head read: the bulk path, same chain."""
    if not entries:
        return []
    lock_appends(session)
    head = read_head(session)
    seq, prev_mac = head.seq, head.mac
    rows: list[dict[str, Any]] = []
    records: list[AuditRecord] = []
    for entry in entries:
        seq += 1
        record = _record(seq, entry)
        mac = chain_hmac(key, prev_mac, record)
        rows.append(_row(record, prev_mac, mac))
        records.append(record)
        prev_mac = mac
    session.execute(insert(_audit), rows)
    return records


def lock_appends(session: Session | Connection) -> None:
    """Serialise audit appends until this transaction ends (PostgreSQL; SQLite is serialised already)."""
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    if dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(AUDIT_LOCK_KEY)))


def read_head(session: Session) -> Anchor:
    """The stored head (seq, MAC), or the genesis anchor when the log is empty. Not verified."""
    row = session.execute(select(_audit.c.seq, _audit.c.mac).order_by(_audit.c.seq.desc()).limit(1)).first()
    return Anchor(0, GENESIS_MAC) if row is None else Anchor(int(row.seq), row.mac)


def iter_rows(session: Session, batch: int = 5000) -> Iterator[StoredEntry]:
    """Every row in seq order, streamed (server-side cursor on PostgreSQL), as plain entries.

    One ordered scan rather than keyset pages: paging on ``seq > last`` would skip a
    duplicated seq, hiding an inserted row from the verifier if the unique index were dropped.
    """
    stmt = (
        select(_audit.c.seq, _audit.c.occurred_at, _audit.c.actor, _audit.c.action, _audit.c.subject_type,
               _audit.c.subject_id, _audit.c.payload, _audit.c.prev_mac, _audit.c.mac)
        .order_by(_audit.c.seq, _audit.c.id)
        .execution_options(yield_per=batch)
    )
    for row in session.execute(stmt):
        yield StoredEntry(
            record=AuditRecord(
                seq=int(row.seq), occurred_at=row.occurred_at, actor=row.actor, action=row.action,
                subject_type=row.subject_type, subject_id=row.subject_id, payload=_load_payload(row.payload),
            ),
            prev_mac=row.prev_mac, mac=row.mac,
        )


def _record(seq: int, entry: NewEntry) -> AuditRecord:
    # Store the payload as its canonical JSON and keep the parsed form in the record, so the
    # record returned here is exactly what the verifier will rebuild from the table.
    record = AuditRecord(
        seq=seq, occurred_at=entry.occurred_at or utcnow(), actor=entry.actor, action=entry.action,
        subject_type=entry.subject_type, subject_id=entry.subject_id, payload={},
    )
    return replace(record, payload=json.loads(canonical_payload(entry.payload)))


def _row(record: AuditRecord, prev_mac: str, mac: str) -> dict[str, Any]:
    return {
        "seq": record.seq, "occurred_at": record.occurred_at, "actor": record.actor, "action": record.action,
        "subject_type": record.subject_type, "subject_id": record.subject_id,
        "payload": canonical_payload(record.payload), "prev_mac": prev_mac, "mac": mac,
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
