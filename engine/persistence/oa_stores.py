"""The OA integration's shared state in the database: replay guard, access tokens, the callback inbox.

Each is one statement per question, safe with several web and worker processes at once:

- a nonce is taken with INSERT … ON CONFLICT DO UPDATE … WHERE the old one expired, RETURNING: a row back
  means this process took it first; two processes racing for one nonce get one row between them;
- a token is read only while it has ``REFRESH_MARGIN_S`` left, and dropped only if it is still the one the
  vendor refused (another process may already have fetched a new one);
- a callback is stored with INSERT … ON CONFLICT DO NOTHING on (vendor, event key), so the same vendor event
  delivered five times is stored, and later applied, once.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, or_, select, update

from connectors.oa.http import REFRESH_MARGIN_S
from engine.persistence.db import upsert_insert
from engine.persistence.oa_tables import OaCallback, OaNonce, OaToken
from engine.persistence.types import utcnow

_nonce = OaNonce.__table__
_token = OaToken.__table__
_callback = OaCallback.__table__
SWEEP_CHANCE = 0.01  # now and then taking a nonce also deletes the expired ones


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class SqlNonceStore:
    """connectors.oa.callbacks.NonceStore, shared through the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def first_use(self, vendor: str, nonce: str, *, now: float, expires_at: float) -> bool:
        stmt = upsert_insert(self.engine.dialect, _nonce).values(vendor=vendor, nonce=nonce, expires_at=_at(expires_at))
        stmt = stmt.on_conflict_do_update(index_elements=[_nonce.c.vendor, _nonce.c.nonce],
                                          set_={"expires_at": stmt.excluded.expires_at},
                                          where=_nonce.c.expires_at <= _at(now))
        with self.engine.begin() as conn:
            taken = conn.execute(stmt.returning(_nonce.c.nonce)).first() is not None
            if random.random() < SWEEP_CHANCE:  # noqa: S311 - housekeeping, not security
                conn.execute(delete(_nonce).where(_nonce.c.expires_at <= _at(now)))
        return taken


class SqlTokenCache:
    """connectors.oa.http.TokenCache, shared through the database by every web and worker process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, key: str, now: float) -> str | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(_token.c.token).where(
                _token.c.key == key, _token.c.expires_at > _at(now + REFRESH_MARGIN_S))).scalar()
        return None if found is None else str(found)

    def put(self, key: str, token: str, expires_at: float) -> None:
        stmt = upsert_insert(self.engine.dialect, _token).values(key=key, token=token, expires_at=_at(expires_at))
        stmt = stmt.on_conflict_do_update(index_elements=[_token.c.key], set_={
            "token": stmt.excluded.token, "expires_at": stmt.excluded.expires_at})
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def drop(self, key: str, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(_token).where(_token.c.key == key, _token.c.token == token))


class SqlCallbackInbox:
    """Accepted callbacks, once per vendor event, waiting for the worker to apply them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, vendor: str, event_key: str, kind: str, payload: dict[str, Any]) -> bool:
        """Store the event; False if the same vendor event was stored before (a repeated delivery)."""
        stmt = upsert_insert(self.engine.dialect, _callback).values(
            vendor=vendor, event_key=event_key[:250], kind=kind[:64], status="pending", attempts=0,
            payload=json.dumps(payload, ensure_ascii=False, sort_keys=True), received_at=utcnow())
        stmt = stmt.on_conflict_do_nothing(index_elements=[_callback.c.vendor, _callback.c.event_key])
        with self.engine.begin() as conn:
            return conn.execute(stmt.returning(_callback.c.id)).first() is not None

    def pending(self, limit: int = 100, *, now: datetime | None = None) -> list[dict[str, Any]]:
        """The oldest events not yet applied and due at ``now``: id, vendor, event_key, kind, payload (a dict),
        attempts. Without ``now``, every pending event (due or not)."""
        stmt = select(_callback.c.id, _callback.c.vendor, _callback.c.event_key, _callback.c.kind,
                      _callback.c.payload, _callback.c.attempts).where(_callback.c.status == "pending")
        if now is not None:
            stmt = stmt.where(or_(_callback.c.not_before.is_(None), _callback.c.not_before <= now))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(_callback.c.id).limit(limit))
            return [{**r._mapping, "payload": json.loads(r.payload)} for r in rows]

    def claim(self, callback_id: int, *, now: datetime, lease: timedelta) -> bool:
        """Take a due event for this worker until ``now + lease``; False if another worker has it (several
        workers may poll the same inbox: one applies each event at a time)."""
        with self.engine.begin() as conn:
            taken = conn.execute(update(_callback).where(
                _callback.c.id == callback_id, _callback.c.status == "pending",
                or_(_callback.c.not_before.is_(None), _callback.c.not_before <= now)).values(
                not_before=now + lease))
            return bool(taken.rowcount == 1)

    def retry_later(self, callback_id: int, error: str, *, not_before: datetime) -> None:
        """Leave the event pending, to be tried again from ``not_before`` (its document is not ready yet)."""
        with self.engine.begin() as conn:
            conn.execute(update(_callback).where(_callback.c.id == callback_id).values(
                error=error[:2000], not_before=not_before, attempts=_callback.c.attempts + 1))

    def finish(self, callback_id: int, status: str, error: str | None = None) -> None:
        """Mark an event applied (done), not for us (ignored) or failed, with the reason."""
        if status not in ("done", "ignored", "failed"):
            raise ValueError(f"status {status!r}: done, ignored or failed")
        with self.engine.begin() as conn:
            conn.execute(update(_callback).where(_callback.c.id == callback_id).values(
                status=status, error=error, processed_at=utcnow(), attempts=_callback.c.attempts + 1))

    def count(self, vendor: str | None = None) -> int:
        stmt = select(func.count()).select_from(_callback)
        if vendor:
            stmt = stmt.where(_callback.c.vendor == vendor)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def sweep(self, older_than: timedelta) -> int:
        """Delete applied events received before ``older_than`` ago (the audit log keeps what they did)."""
        with self.engine.begin() as conn:
            return int(conn.execute(delete(_callback).where(
                _callback.c.status != "pending", _callback.c.received_at < utcnow() - older_than)).rowcount)
