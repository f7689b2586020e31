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
own commit() that follows is then a no-op, as is its rollback() after a connection was invalidated: a
connection that leaves its transaction that way lets go through the pool's events. Between processes, the
holder of that lock also takes a file lock (sqlite_file_lock.py) so that processes take turns too; every
wait ends after the busy timeout (``BUDGETFLOW_SQLITE_BUSY_TIMEOUT_SECONDS``, 60 by default).

No memory-mapped I/O (``mmap_size=0``): a database file that shrinks or turns unreadable under a
mapping kills the process with SIGBUS instead of raising an error the worker can wait out. SQLite
still maps the WAL index (the ``-shm`` file); docs/engine.md says what an operator must not do to it.

``hide_parameters``: SQLAlchemy's exception text never carries bound values (names, amounts, tokens),
so no log line or stored error can leak them; db_errors.py turns the rest into one line.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from engine.persistence import sqlite_file_lock
from engine.persistence.db_errors import DatabaseMissing, WriterLockTimeout
from engine.persistence.sqlite_file_lock import SqliteFileLock, handover_wanted

BUSY_TIMEOUT_S = 60.0
SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "mmap_size=0")
READ_ONLY = "budgetflow_read_only"

log = logging.getLogger(__name__)


def read_only(conn: Connection) -> Connection:
    """Mark ``conn`` (before its first statement) as one that only reads: no SQLite write lock."""
    return conn.execution_options(**{READ_ONLY: True})


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False, busy_timeout: float = BUSY_TIMEOUT_S,
                create: bool = True, writer_handover: bool | None = None) -> Engine:
    """An Engine for ``url``; SQLite files get their folder created and the pragmas above.

    ``busy_timeout``: seconds a SQLite writer waits for the write lock before ``database is locked``.
    ``create=False``: a SQLite file that does not exist is DatabaseMissing, not a new empty file.
    ``writer_handover``: SQLite writers of different processes take turns through a file lock
    (sqlite_file_lock.py); None: as ``BUDGETFLOW_SQLITE_WRITER_HANDOVER`` says (on unless it says off).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not create and parsed.database not in (None, "", ":memory:") and not Path(parsed.database).exists():
            raise DatabaseMissing(f"{parsed.database} does not exist")
        return _sqlite_engine(url, pool_size=pool_size, echo=echo, busy_timeout=busy_timeout,
                              writer_handover=writer_handover)
    # No pre-ping: it costs a round trip per transaction; recycling bounds the age of a pooled connection
    # instead, and a connection the server dropped fails its transaction, which callers retry.
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2, pool_recycle=300, echo=echo,
                         hide_parameters=True)


def _sqlite_engine(url: str, *, pool_size: int, echo: bool, busy_timeout: float,
                   writer_handover: bool | None) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=pool_size * 2, echo=echo, hide_parameters=True,
        connect_args={"check_same_thread": False, "timeout": busy_timeout},
    )
    wanted = handover_wanted() if writer_handover is None else writer_handover
    writer = _WriterQueue(busy_timeout, sqlite_file_lock.for_database(database, busy_timeout, wanted=wanted))
    event.listen(engine, "connect", lambda dbapi_conn, _record: _sqlite_on_connect(dbapi_conn, busy_timeout))
    event.listen(engine, "begin", writer.begin)
    event.listen(engine, "commit", writer.commit)
    event.listen(engine, "rollback", writer.rollback)
    # A connection that leaves its transaction by any other way (invalidated after an error, closed,
    # returned to the pool by the garbage collector) must not take the write lock with it: SQLite rolls
    # its transaction back, and the next writer would otherwise wait the whole busy timeout. Not on
    # soft_invalidate: that connection stays in use until its checkin, transaction and all.
    for name in ("checkin", "invalidate", "close", "close_detached"):
        event.listen(engine.pool, name, writer.connection_gone)
    return engine


class _WriterQueue:
    """One SQLite writer per process at a time, handed over without busy-polling; with a file lock, between
    processes too (sqlite_file_lock.py).

    The holder is the DBAPI connection that ran BEGIN IMMEDIATE (pysqlite's connections cannot be weakly
    referenced; the reference is dropped whenever the lock is). Only the holder's own end lets go, so a late
    event for a connection that let go already cannot release a lock another writer has taken since.
    """

    def __init__(self, timeout: float, file_lock: SqliteFileLock | None) -> None:
        self._lock = threading.Lock()
        self._timeout = timeout
        self._file_lock = file_lock
        self._holder: Any = None
        self._holds_file_lock = False
        self._state = threading.Lock()  # guards _holder: a pool event may come from another thread (gc)

    def begin(self, conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        dbapi = conn.connection.dbapi_connection
        self._take(dbapi)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self._let_go(dbapi)
            raise

    def commit(self, conn: Any) -> None:
        self._finish(conn, "COMMIT")

    def rollback(self, conn: Any) -> None:
        self._finish(conn, "ROLLBACK")

    def connection_gone(self, dbapi_conn: Any, *_args: Any) -> None:
        """Pool event: ``dbapi_conn`` is checked in, invalidated or closed; if it holds the lock, let go."""
        if dbapi_conn is None or self._holder is not dbapi_conn:  # None: checked in after invalidation
            return
        try:
            if dbapi_conn.in_transaction:  # let SQLite go first, so the next writer does not meet it busy
                dbapi_conn.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - a broken connection: closing it ends its transaction anyway
            log.debug("rollback of a connection that left holding the writer lock failed", exc_info=True)
        finally:
            self._let_go(dbapi_conn)

    def _take(self, dbapi: Any) -> None:
        if not self._lock.acquire(timeout=self._timeout):
            raise WriterLockTimeout(f"no SQLite write lock within {self._timeout:g} s (another transaction is stuck)")
        try:
            holds_file_lock = self._file_lock is not None and self._file_lock.acquire()
        except BaseException:
            self._lock.release()
            raise
        with self._state:
            self._holder, self._holds_file_lock = dbapi, holds_file_lock

    def _finish(self, conn: Any, statement: str) -> None:
        dbapi = conn.connection.dbapi_connection if not conn.invalidated else None
        if dbapi is None or self._holder is not dbapi:
            return
        try:
            if dbapi.in_transaction:
                dbapi.execute(statement)
        finally:
            self._let_go(dbapi)

    def _let_go(self, dbapi: Any) -> None:
        """Release both locks if ``dbapi`` holds them; once only, whichever end comes first."""
        with self._state:
            if dbapi is None or self._holder is not dbapi:
                return
            file_lock, self._holder, self._holds_file_lock = self._holds_file_lock, None, False
        try:
            if file_lock and self._file_lock is not None:
                self._file_lock.release()
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
