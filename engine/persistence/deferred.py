"""Writes that return nothing, held back on PostgreSQL and sent with the next read or the commit.

Each statement sent on its own costs a round trip to the server, and on a busy machine a
round trip is a wake-up of two processes, not just a packet: an engine step made about 20 of
them. A unit of work on PostgreSQL puts a ``DeferredWrites`` in ``Connection.info``; repositories
hand it their plain writes (``write``), and they go out together in one libpq pipeline: with
the next prepared read, in its pipeline (prepared.py), before any other statement (the unit of
work's before-statement hook, as for the ledger's own queue), or with the commit. Writes keep
their order, and every read still sees every earlier write of its transaction. Elsewhere
(SQLite, or a connection without a queue) ``write`` runs the statement at once.

A write whose row count matters passes ``check``: it runs once the pipeline has answered, and
may raise (the unit of work then rolls back, as for any failed write).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from engine.persistence.prepared import QUEUED_WRITES, Prepared, driver_connection

DEFERRED = QUEUED_WRITES
Check = Callable[[int], None]  # called with the write's row count


@dataclass(frozen=True, slots=True)
class _Write:
    statement: Prepared
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    many: bool
    check: Check | None


def write(conn: Connection, statement: Prepared, params: Any, *, many: bool = False,
          check: Check | None = None) -> None:
    """Run ``statement`` now, or queue it when ``conn`` carries a unit of work's ``DeferredWrites``."""
    queue = conn.info.get(DEFERRED)
    if queue is not None:
        queue.add(_Write(statement, params, many, check))
        return
    if many:
        statement.many(conn, params)
        return
    cursor = statement.execute(conn, params)
    if check is not None:
        check(int(cursor.rowcount))


class DeferredWrites:
    """The queue of one unit of work's connection (PostgreSQL only)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pending: list[_Write] = []

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def add(self, item: _Write) -> None:
        self._pending.append(item)

    def discard(self) -> None:
        """Forget what is queued: its transaction is being rolled back."""
        self._pending = []

    def flush(self) -> None:
        """Send what is queued, in one round trip, and run the checks."""
        if not self._pending:
            return
        driver = driver_connection(self.conn)
        with driver.pipeline():
            sent = self.send()
        self.verify(sent)

    def send(self) -> list[tuple[Any, Check]]:
        """Queue the writes on the driver, which must be in pipeline mode already; the checks for ``verify``.

        For a caller that adds statements of its own to the same round trip (the audit append)."""
        pending, self._pending = self._pending, []
        sent: list[tuple[Any, Check]] = []
        for item in pending:
            if item.many:
                item.statement.many(self.conn, item.params)  # type: ignore[arg-type]  # a list when many
                continue
            cursor = item.statement.execute(self.conn, item.params)  # type: ignore[arg-type]  # one mapping
            if item.check is not None:
                sent.append((cursor, item.check))
        return sent

    @staticmethod
    def verify(sent: list[tuple[Any, Check]]) -> None:
        """Run the checks of writes sent in a pipeline that has answered (its block has ended)."""
        for cursor, check in sent:
            check(int(cursor.rowcount))

    def commit(self) -> None:
        """Send what is queued and COMMIT in the same round trip (nothing queued: the caller commits)."""
        if not self._pending:
            return
        driver = driver_connection(self.conn)
        with driver.pipeline():
            sent = self.send()
            driver.cursor().execute("COMMIT")  # not driver.commit(): that would sync once more on its own
        self.verify(sent)
