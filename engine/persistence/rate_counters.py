"""Fixed-window counters in the database, shared by every web process (sign-in throttling).

One row per key: the count and when its window ends. A hit on an expired row starts a new
window in the same statement (INSERT … ON CONFLICT DO UPDATE, on SQLite and PostgreSQL), so
two processes counting at once never lose a hit.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import Engine, case, delete, select

from engine.persistence.db import upsert_insert
from engine.persistence.types import utcnow
from engine.persistence.web_limits_table import RateCounter

_rc = RateCounter.__table__
SWEEP_CHANCE = 0.01  # now and then a hit also deletes windows that ended a day ago


class SqlRateCounters:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count ``amount`` hits on ``key`` in its window (a new window of ``expiry`` s if none is running)."""
        now = utcnow()
        stmt = upsert_insert(self.engine.dialect, _rc).values(key=key, hits=amount,
                                                              expires_at=now + timedelta(seconds=expiry))
        ended = _rc.c.expires_at <= now
        stmt = stmt.on_conflict_do_update(index_elements=[_rc.c.key], set_={
            "hits": case((ended, stmt.excluded.hits), else_=_rc.c.hits + stmt.excluded.hits),
            "expires_at": case((ended, stmt.excluded.expires_at), else_=_rc.c.expires_at)})
        with self.engine.begin() as conn:
            hits = conn.execute(stmt.returning(_rc.c.hits)).scalar_one()
            if random.random() < SWEEP_CHANCE:  # noqa: S311 - housekeeping, not security
                conn.execute(delete(_rc).where(_rc.c.expires_at < now - timedelta(days=1)))
        return int(hits)

    def get(self, key: str) -> int:
        row = self._row(key)
        return int(row[0]) if row is not None and row[1] > utcnow() else 0

    def expiry(self, key: str) -> datetime:
        row = self._row(key)
        return row[1] if row is not None and row[1] > utcnow() else utcnow()

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(_rc).where(_rc.c.key == key))

    def reset(self) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(delete(_rc)).rowcount)

    def _row(self, key: str) -> tuple[int, datetime] | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(_rc.c.hits, _rc.c.expires_at).where(_rc.c.key == key)).first()
        return (found[0], found[1]) if found is not None else None
