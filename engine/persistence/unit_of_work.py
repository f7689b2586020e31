"""Unit of work: one connection, one transaction; rollback unless the service commits.

The ledger's hot path speaks Core on a plain Connection (no ORM session) to keep
per-operation overhead small; repositories accept either.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from engine.persistence.ledger_repository import SqlLedgerRepository


class SqlUnitOfWork:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __enter__(self) -> Self:
        self.conn: Connection = self._engine.connect()
        self.conn.begin()
        self.ledger = SqlLedgerRepository(self.conn)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.conn.close()  # rolls back whatever was not committed

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()
