"""Engines and sessions: SQLite with WAL + BEGIN IMMEDIATE, PostgreSQL through psycopg 3.

SQLite's default deferred transaction takes the write lock only at the first
write and then fails the upgrade at once under concurrency (busy_timeout does
not help; docs/ledger.md). Every transaction here starts IMMEDIATE, so the
write lock is taken up front and concurrent writers queue on busy_timeout.

A connection with the execution option ``READ_ONLY`` (see ``read_only``) starts a plain
deferred BEGIN instead and skips the queue: in WAL mode a reader sees a consistent
snapshot and never blocks, nor waits for, the writer.

Within one process, threads also queue on a Python lock before BEGIN IMMEDIATE:
SQLite's busy handler polls with sleeps of up to 100 ms, so sixteen threads
polling one file lock spend most of their time asleep while the lock is free
(measured: ~200 reservations/s instead of thousands). The lock is released only
after COMMIT or ROLLBACK has run, which these hooks issue themselves; pysqlite's
own commit() that follows is then a no-op. Other processes still meet the file
lock and busy_timeout (``BUDGETFLOW_SQLITE_BUSY_TIMEOUT_SECONDS``, 60 by default).

No memory-mapped I/O (``mmap_size=0``): a database file that shrinks or turns unreadable under a
mapping kills the process with SIGBUS instead of raising an error the worker can wait out. SQLite
still maps the WAL index (the ``-shm`` file); docs/engine.md says what an operator must not do to it.

``hide_parameters``: SQLAlchemy's exception text never carries bound values (names, amounts, tokens),
so no log line or stored error can leak them; db_errors.py turns the rest into one line.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from engine.persistence.db_errors import DatabaseMissing, WriterLockTimeout

BUSY_TIMEOUT_S = 60.0
SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "mmap_size=0")
_HOLDS_LOCK = "budgetflow_holds_writer_lock"
READ_ONLY = "budgetflow_read_only"


def read_only(conn: Connection) -> Connection:
    """Mark ``conn`` (before its first statement) as one that only reads: no SQLite write lock."""
    return conn.execution_options(**{READ_ONLY: True})


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False, busy_timeout: float = BUSY_TIMEOUT_S,
                create: bool = True) -> Engine:
    """An Engine for ``url``; SQLite files get their folder created and the pragmas above.

    ``busy_timeout``: seconds a SQLite writer waits for the write lock before ``database is locked``.
    ``create=False``: a SQLite file that does not exist is DatabaseMissing, not a new empty file.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not create and parsed.database not in (None, "", ":memory:") and not Path(parsed.database).exists():
            raise DatabaseMissing(f"{parsed.database} does not exist")
        return _sqlite_engine(url, pool_size=pool_size, echo=echo, busy_timeout=busy_timeout)
    # No pre-ping: it costs a round trip per transaction; recycling bounds the age of a pooled connection
    # instead, and a connection the server dropped fails its transaction, which callers retry.
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2, pool_recycle=300, echo=echo,
                         hide_parameters=True)


def _sqlite_engine(url: str, *, pool_size: int, echo: bool, busy_timeout: float) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=pool_size * 2, echo=echo, hide_parameters=True,
        connect_args={"check_same_thread": False, "timeout": busy_timeout},
    )
    writer = _WriterQueue(busy_timeout)
    event.listen(engine, "connect", lambda dbapi_conn, _record: _sqlite_on_connect(dbapi_conn, busy_timeout))
    event.listen(engine, "begin", writer.begin)
    event.listen(engine, "commit", writer.commit)
    event.listen(engine, "rollback", writer.rollback)
    return engine


class _WriterQueue:
    """One SQLite writer per process at a time, handed over without busy-polling."""

    def __init__(self, timeout: float) -> None:
        self._lock = threading.Lock()
        self._timeout = timeout

    def begin(self, conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        if not self._lock.acquire(timeout=self._timeout):
            raise WriterLockTimeout(f"no SQLite write lock within {self._timeout:g} s (another transaction is stuck)")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        conn.info[_HOLDS_LOCK] = True

    def commit(self, conn: Any) -> None:
        self._finish(conn, "COMMIT")

    def rollback(self, conn: Any) -> None:
        self._finish(conn, "ROLLBACK")

    def _finish(self, conn: Any, statement: str) -> None:
        if not conn.info.pop(_HOLDS_LOCK, False):
            return
        try:
            dbapi = conn.connection.dbapi_connection
            if dbapi is not None and dbapi.in_transaction:
                dbapi.execute(statement)
        finally:
            self._lock.release()


def _sqlite_on_connect(dbapi_conn: Any, busy_timeout: float) -> None:
    dbapi_conn.isolation_level = None  # stop pysqlite from issuing its own deferred BEGIN
    for pragma in (*SQLITE_PRAGMAS, f"busy_timeout={int(busy_timeout * 1000)}"):
        dbapi_conn.execute(f"PRAGMA {pragma}")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def upsert_insert(dialect: Dialect, table: Any) -> Any:
    """An INSERT that takes ``on_conflict_do_update``/``on_conflict_do_nothing``: PostgreSQL's or SQLite's."""
    return (postgresql if dialect.name == "postgresql" else sqlite).insert(table)
