"""Engines and sessions: SQLite with WAL + BEGIN IMMEDIATE, PostgreSQL through psycopg 3.

SQLite's default deferred transaction takes the write lock only at the first
write and then fails the upgrade at once under concurrency (busy_timeout does
not help; reliability.md §3). Every transaction here starts IMMEDIATE, so the
write lock is taken up front and concurrent writers queue on busy_timeout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=60000", "foreign_keys=ON")


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """An Engine for ``url``; SQLite files get their folder created and the pragmas above."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, pool_size=pool_size, echo=echo)
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True, echo=echo)


def _sqlite_engine(url: str, *, pool_size: int, echo: bool) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=pool_size * 2, echo=echo,
        connect_args={"check_same_thread": False, "timeout": 60},
    )
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # stop pysqlite from issuing its own deferred BEGIN
    for pragma in SQLITE_PRAGMAS:
        dbapi_conn.execute(f"PRAGMA {pragma}")


def _sqlite_on_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
