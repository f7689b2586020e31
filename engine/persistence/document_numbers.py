"""Document numbers: one counter row per prefix and year, taken under its row lock (``uow.numbers``).

PostgreSQL: the UPDATE ... RETURNING locks the row, so concurrent starts queue on it and each reads the value
its own increment wrote. SQLite: every writing transaction already holds the database's write lock
(BEGIN IMMEDIATE). The row is created on first use, and a creation race is settled by ON CONFLICT DO NOTHING.
"""

from __future__ import annotations

from sqlalchemy import Connection, update

from engine.persistence.db import upsert_insert
from engine.persistence.web_tables import DocumentCounter

_counter = DocumentCounter.__table__


class SqlDocumentNumbers:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def next(self, prefix: str, year: int) -> int:
        """The next number of ``prefix`` in ``year`` (1, 2, 3, ...), held by this transaction until it ends."""
        self.conn.execute(upsert_insert(self.conn.dialect, _counter).values(prefix=prefix, year=year, last=0)
                          .on_conflict_do_nothing(index_elements=["prefix", "year"]))
        return int(self.conn.execute(update(_counter).where(_counter.c.prefix == prefix, _counter.c.year == year)
                                     .values(last=_counter.c.last + 1).returning(_counter.c.last)).scalar_one())
