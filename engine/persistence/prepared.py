"""Core statements compiled once per dialect and run straight on the DB-API cursor.

For the ledger's hot path only. SQLAlchemy's per-call work (cache-key lookup,
execution context, result wrapping) costs more than SQLite itself spends on a
reservation: measured 770 reservations/s through ``Connection.execute`` against
2,400/s for the same six statements on bare sqlite3. A Prepared statement keeps
what matters from SQLAlchemy (dialect-correct SQL, our column types' bind and
result processing, the connection and its transaction) and skips the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Connection, Date, DateTime, Dialect, Interval, Time
from sqlalchemy.exc import ResourceClosedError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeDecorator, TypeEngine

Processor = Callable[[Any], Any] | None

# A callable a unit of work stores in ``Connection.info`` under this key runs before every prepared
# statement, as SQLAlchemy's ``before_cursor_execute`` event does for the others: PostgreSQL's queued
# pipeline writes must reach the server before any later statement of the transaction reads.
BEFORE_STATEMENT = "budgetflow_before_statement"
# Writes a unit of work holds back on PostgreSQL (deferred.py) are stored under this key; a prepared read
# sends them in the same pipeline as itself: one round trip for both, the writes first.
QUEUED_WRITES = "budgetflow_deferred_writes"


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bind names in the order a positional paramstyle wants them
    positional: bool
    binders: dict[str, Processor]
    readers: tuple[Processor, ...]
    defaults: dict[str, Any]  # values fixed in the statement itself (e.g. ``status='closed'``)


class Prepared:
    """A statement whose parameter names are fixed; compile on first use for each dialect."""

    def __init__(self, statement: ClauseElement, *, column_keys: Sequence[str] | None = None) -> None:
        self._statement = statement
        self._column_keys = list(column_keys) if column_keys is not None else None
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self._statement.compile(dialect=dialect, column_keys=self._column_keys)
        if not isinstance(compiled, SQLCompiler):  # DDL compiles to another kind, without bind parameters
            raise TypeError(f"only SELECT, INSERT, UPDATE and DELETE can be prepared, not {self._statement}")
        binds = compiled.binds
        names = tuple(compiled.positiontup or ()) if dialect.positional else tuple(binds)
        binders: dict[str, Processor] = {
            name: binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in binds}
        columns = getattr(self._statement, "exported_columns", ())  # SELECT columns or RETURNING columns
        readers = tuple(_reader(col.type, dialect) for col in columns)
        defaults = {name: bind.value for name, bind in binds.items() if not bind.required}
        return _Compiled(compiled.string, names, dialect.positional, binders, readers, defaults)

    def _get(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = self._compile(dialect)
        return found

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Run on ``conn``'s DB-API connection (inside its transaction); returns the raw cursor."""
        c = self._get(conn.dialect)
        bound = _bind(c, params)
        args: Any = tuple(bound[n] for n in c.names) if c.positional else bound
        cursor = _cursor(conn)
        cursor.execute(c.sql, args)
        return cursor

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run a write and return how many rows it touched."""
        return int(self.execute(conn, params).rowcount)

    def _execute_read(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """``execute`` for a read: with held-back writes queued, both go in one pipeline (writes first)."""
        queue = conn.info.get(QUEUED_WRITES)
        if queue is None or not queue.pending:
            return self.execute(conn, params)
        with driver_connection(conn).pipeline():
            sent = queue.send()
            cursor = self.execute(conn, params)
        queue.verify(sent)  # the rows are read once the pipeline has answered, as the ledger's pipelined reads
        return cursor

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        c = self._get(conn.dialect)
        rows = self._execute_read(conn, params).fetchall()
        if not any(c.readers):
            return [tuple(row) for row in rows]
        return [_read(c, row) for row in rows]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        c = self._get(conn.dialect)
        row = self._execute_read(conn, params).fetchone()
        if row is None:
            return None
        return _read(c, row)

    def read(self, conn: Connection, row: Any) -> tuple[Any, ...] | None:
        """Convert a raw row fetched from a cursor ``execute`` returned (for pipelined reads)."""
        return None if row is None else _read(self._get(conn.dialect), row)

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        row = self.first(conn, params)
        return None if row is None else row[0]

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        c = self._get(conn.dialect)
        cursor = _cursor(conn)
        batch = []
        for params in rows:
            bound = _bind(c, params)
            batch.append(tuple(bound[n] for n in c.names) if c.positional else bound)
        cursor.executemany(c.sql, batch)


def _read(c: _Compiled, row: Any) -> tuple[Any, ...]:
    return tuple(r(v) if r else v for r, v in zip(c.readers, row, strict=True))


def driver_connection(conn: Connection) -> Any:
    """The driver's own connection under ``conn`` (sqlite3's or psycopg's: its API is the driver's)."""
    driver = conn.connection.driver_connection
    if driver is None:  # only once the pooled connection was invalidated, which ends its transaction first
        raise ResourceClosedError("the database connection was invalidated")
    return driver


def _cursor(conn: Connection) -> Any:
    hook = conn.info.get(BEFORE_STATEMENT)
    if hook is not None:
        hook()
    return driver_connection(conn).cursor()


def _bind(c: _Compiled, params: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for name, proc in c.binders.items():
        value = params[name] if name in params else c.defaults[name]
        out[name] = proc(value) if proc else value
    return out


def _reader(type_: TypeEngine[Any], dialect: Dialect) -> Processor:
    """Convert a raw DB-API value the way the column type would.

    Both drivers hand back plain numbers and strings natively, so only our own
    TypeDecorators (ExactDecimal) need a step; temporal columns depend on driver
    converters SQLAlchemy applies, so they are refused here rather than misread.
    """
    base = type_.impl_instance if isinstance(type_, TypeDecorator) else type_
    if isinstance(base, Date | DateTime | Time | Interval):
        raise NotImplementedError(f"Prepared statements do not read {type_!r} columns; use Connection.execute")
    if isinstance(type_, TypeDecorator):
        return partial(_decorated, type_, dialect)
    return None


def _decorated(type_: TypeDecorator[Any], dialect: Dialect, value: Any) -> Any:
    return type_.process_result_value(value, dialect)
