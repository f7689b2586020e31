"""Say what a database failure means in one line: its kind, what to do, and whether waiting helps.

SQLAlchemy's own exception text carries the failing SQL (and, without ``hide_parameters``, its
bound values); the drivers' texts can span a dozen lines. Nothing of either reaches a message made
here: a message names the kind of problem, the database (password redacted) and the fix, and
borrows at most the first line of a driver's *connection* error (which names host and port,
never a statement).

``transient`` problems go away on their own or when someone fixes the server or the files, not the
settings: a lost connection, a server that is down or starting, a lock held too long, an I/O error,
a full disk, a read-only file or a read-only server (a standby after a failover). A long-running
process waits and retries them. The others are configuration (a wrong URL, a missing driver, no
schema yet or an old one): retrying cannot help.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc

from engine.config import redact_url

KINDS = ("unreachable", "connection_lost", "locked", "read_only", "disk_full", "io_error", "no_schema",
         "schema_outdated", "driver_missing", "bad_url", "other")
TRANSIENT = frozenset({"unreachable", "connection_lost", "locked", "read_only", "disk_full", "io_error"})
# Python modules SQLAlchemy imports for a URL's driver: a ModuleNotFoundError naming one is a missing driver.
DRIVERS = frozenset({"psycopg", "psycopg2", "psycopg_c", "psycopg_binary", "pg8000", "asyncpg", "MySQLdb",
                     "pymysql", "mysql", "mariadb", "cx_Oracle", "oracledb", "pyodbc", "pymssql", "sqlite3"})

_FIX = {
    "unreachable": "is the server running and BUDGETFLOW_DATABASE_URL right?",
    "connection_lost": "the server closed the connection (a restart, a failover or an administrator); try again",
    "locked": "another process held the write lock longer than the busy timeout; try again, or find that process",
    "read_only": "the database file, its folder or the database role is read-only; give write access",
    "disk_full": "free disk space on the database's volume",
    "io_error": "the database file could not be read or written (disk, permissions, network share); check them",
    "no_schema": "the database has no budgetflow tables yet; run `budgetflow init`",
    "schema_outdated": "the database schema is older than this budgetflow; run `budgetflow init` to upgrade it",
    "driver_missing": "the Python driver for this database is not installed",
    "bad_url": "fix BUDGETFLOW_DATABASE_URL",
    "other": "see the worker's log for details",
}
# PostgreSQL SQLSTATE codes (class 08: connection exception) and the kinds they mean.
_SQLSTATE = {
    "57P01": "connection_lost", "57P02": "connection_lost", "57P03": "unreachable", "53300": "unreachable",
    "55P03": "locked", "25006": "read_only", "53100": "disk_full", "58030": "io_error",
    "42P01": "no_schema", "42703": "schema_outdated", "3D000": "bad_url", "28P01": "bad_url", "28000": "bad_url",
}
_SQLITE = {
    "SQLITE_BUSY": "locked", "SQLITE_LOCKED": "locked", "SQLITE_READONLY": "read_only", "SQLITE_FULL": "disk_full",
    "SQLITE_IOERR": "io_error", "SQLITE_CANTOPEN": "io_error", "SQLITE_PROTOCOL": "io_error",
}
# Connection failures before any statement carry no SQLSTATE: their text is all there is.
_CONNECT_TEXT = (
    ("password authentication failed", "bad_url"), ("no password supplied", "bad_url"),
    ("does not exist", "bad_url"), ("invalid connection option", "bad_url"), ("invalid dsn", "bad_url"),
    ("connection is lost", "connection_lost"), ("server closed the connection", "connection_lost"),
    ("consuming input failed", "connection_lost"), ("the connection is closed", "connection_lost"),
    ("terminating connection", "connection_lost"), ("ssl connection has been closed", "connection_lost"),
)
_SQLITE_TEXT = (
    ("database is locked", "locked"), ("database table is locked", "locked"), ("readonly database", "read_only"),
    ("disk is full", "disk_full"), ("disk i/o error", "io_error"), ("unable to open database", "io_error"),
    ("no such table", "no_schema"), ("no such column", "schema_outdated"), ("has no column named", "schema_outdated"),
)


@dataclass(frozen=True)
class DatabaseProblem:
    kind: str  # one of KINDS
    message: str  # one line: what is wrong and what to do; no SQL, no parameters, no password
    transient: bool  # worth retrying after a pause (the server or the lock may come back) vs. configuration
    detail: str = ""  # the driver's first line where it names a place (host, file, module), never a statement

    def __str__(self) -> str:
        return self.message


class DatabaseMissing(LookupError):
    """The SQLite file does not exist and this caller may not create it (only ``budgetflow init`` and the
    commands that seed do): connecting would leave an empty database file behind."""


class WriterLockTimeout(TimeoutError):
    """This process's own queue for the SQLite write lock did not move within the busy timeout."""


def classify(exc: BaseException, *, url: str | None = None) -> DatabaseProblem | None:
    """What ``exc`` (or an exception it was raised from) says about the database; None if it is not about it."""
    for error in _chain(exc):
        kind = _kind(error)
        if kind is not None:
            return problem(kind, url=url, detail=_detail(error, kind))
    return None


def problem(kind: str, *, url: str | None = None, detail: str = "") -> DatabaseProblem:
    """A DatabaseProblem of ``kind`` for the database at ``url`` (shown redacted)."""
    where = f" ({redact_url(url)})" if url else ""
    said = f": {detail}" if detail else ""
    message = f"database {kind.replace('_', ' ')}{where}{said}; {_FIX[kind]}"
    return DatabaseProblem(kind, " ".join(message.split()), kind in TRANSIENT, detail)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a database problem that waiting may cure (for callers that only need the verdict)."""
    found = classify(exc)
    return found is not None and found.transient


def short_text(exc: BaseException, *, limit: int = 300) -> str:
    """One line to store or show for ``exc``: a database problem's message, else the exception's own text."""
    found = classify(exc)
    if found is not None:
        return found.message
    text = " ".join(str(exc).split()) or type(exc).__name__
    if type(exc).__name__ not in text:
        text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _kind(error: BaseException) -> str | None:
    if isinstance(error, WriterLockTimeout):
        return "locked"
    if isinstance(error, DatabaseMissing):
        return "no_schema"
    if isinstance(error, ModuleNotFoundError):
        return "driver_missing" if (error.name or "").split(".")[0] in DRIVERS else None
    if isinstance(error, sa_exc.NoSuchModuleError | sa_exc.ArgumentError):
        return "bad_url"
    if isinstance(error, sa_exc.DBAPIError):
        return _dbapi_kind(error.orig, invalidated=error.connection_invalidated)
    if isinstance(error, sqlite3.Error) or _is_psycopg(error):
        return _dbapi_kind(error, invalidated=False)
    return None


def _dbapi_kind(orig: BaseException | None, *, invalidated: bool) -> str:
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        if sqlstate in _SQLSTATE:
            return _SQLSTATE[sqlstate]
        if sqlstate.startswith("08"):
            return "connection_lost"
    if isinstance(orig, sqlite3.Error):
        name = (getattr(orig, "sqlite_errorname", "") or "").split("_")
        base = "_".join(name[:2])  # SQLITE_IOERR_SHORT_READ -> SQLITE_IOERR
        if base in _SQLITE:
            return _SQLITE[base]
        return _by_text(str(orig), _SQLITE_TEXT) or "other"
    if invalidated:
        return "connection_lost"
    if _is_psycopg(orig) and type(orig).__name__ == "OperationalError":
        return _by_text(str(orig), _CONNECT_TEXT) or "unreachable"
    return "other"


def _by_text(text: str, table: tuple[tuple[str, str], ...]) -> str | None:
    lowered = text.lower()
    return next((kind for needle, kind in table if needle in lowered), None)


def _is_psycopg(error: BaseException | None) -> bool:
    return error is not None and type(error).__module__.split(".")[0] in {"psycopg", "psycopg2"}


def _detail(error: BaseException, kind: str) -> str:
    """The driver's own first line, only where it names a place and never a statement; else nothing."""
    if kind not in ("unreachable", "bad_url", "driver_missing", "io_error"):
        return ""
    if isinstance(error, ModuleNotFoundError):
        return f"no module named {error.name!r}"
    orig = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    if isinstance(error, sa_exc.NoSuchModuleError | sa_exc.ArgumentError):
        return str(error).splitlines()[0][:200] if str(error) else ""
    if getattr(orig, "sqlstate", None) is not None:
        return ""  # an error raised by a statement: its text may quote the statement or a value
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    return first.removeprefix("connection failed: ")[:200]
