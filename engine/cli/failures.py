"""Every failure the command line knows, as one line and an exit code; never a traceback.

Exit codes: 0 done; 1 the command ran and found a problem or could not finish (a check
that fails, a database that is locked, read-only or unreachable, an internal error);
2 a usage or configuration error, or a request the rules refuse (wrong arguments, a
malformed setting, a bad database URL, a missing driver, a schema not created yet).
Unknown exceptions are internal errors; ``BUDGETFLOW_DEBUG=1`` shows their traceback.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from engine.cli.i18n import N_, _
from engine.config import PREFIX, SettingInvalid, redact_url
from engine.domain.errors import BudgetflowError

USAGE = 2
FAILURE = 1
DEBUG_ENV = f"{PREFIX}DEBUG"

# (text in the driver's message, what to say, exit code): the first that matches wins.
_DATABASE_PROBLEMS: tuple[tuple[tuple[str, ...], str, int], ...] = (
    (("no such table", "undefinedtable"), N_(
        "database not initialised: {url} has no budgetflow tables; run `budgetflow init`"), USAGE),
    (("database is locked",), N_(
        "database is locked: another process has held {url} for longer than the busy timeout; try again, "
        "or find the process that holds it"), FAILURE),
    (("readonly database", "read-only"), N_(
        "the database {url} is read-only: give the user running budgetflow write access to the file and its "
        "folder"), FAILURE),
    (("unable to open database file",), N_(
        "cannot open the SQLite database {url}: check that its folder exists and is writable"), USAGE),
    (("file is not a database",), N_("{url} is not a SQLite database file"), USAGE),
    (("disk i/o error",), N_("disk I/O error on {url}: check the disk and the file system"), FAILURE),
    (('fatal:  database "',), N_(
        "the database named in {url} does not exist on that server: create it, or correct "
        "BUDGETFLOW_DATABASE_URL"), USAGE),
    (("password authentication failed", 'role "', "no password supplied"), N_(
        "the database {url} refused the login: check the user and password in BUDGETFLOW_DATABASE_URL"), USAGE),
    (("connection refused", "could not connect", "connection failed", "could not translate host name",
      "name or service not known", "timeout expired"), N_(
        "cannot reach the database at {url}: is the server running and the URL right? ({detail})"), FAILURE),
    (("server closed the connection", "connection is lost", "terminating connection", "consuming input failed",
      "connection already closed", "the connection is closed"), N_(
        "the connection to the database {url} was lost ({detail}); try again once it is back"), FAILURE),
)


def explain(exc: BaseException, settings_url: str | None) -> tuple[str, int]:
    """One line saying what is wrong and what to do, and the exit code."""
    url = redact_url(settings_url) if settings_url else _("the configured database")
    if isinstance(exc, SettingInvalid):
        return _("configuration: {problem}").format(problem=exc), USAGE
    if isinstance(exc, BudgetflowError):
        return str(exc), USAGE
    found = _database_problem(exc, url)
    if found is not None:
        return found
    if isinstance(exc, TimeoutError):
        return _("gave up waiting: {detail}").format(detail=_first_line(exc)), FAILURE
    if isinstance(exc, OSError):
        return _os_error(exc), FAILURE
    return (_("internal error: {kind}: {detail}; set {env}=1 for the traceback").format(
        kind=type(exc).__name__, detail=_first_line(exc), env=DEBUG_ENV), FAILURE)


def _database_problem(exc: BaseException, url: str) -> tuple[str, int] | None:
    """SQLAlchemy and driver errors by what they say (only the driver's first line: never SQL or parameters)."""
    if isinstance(exc, NoSuchModuleError | ArgumentError):
        return _("BUDGETFLOW_DATABASE_URL is not a database URL budgetflow can use: {detail}").format(
            detail=_first_line(exc)), USAGE
    if isinstance(exc, ImportError):
        return _("the database driver for {url} is not installed ({detail}); budgetflow runs on SQLite and on "
                 "PostgreSQL through psycopg 3").format(url=url, detail=_first_line(exc)), USAGE
    driver = _driver_error(exc)
    if driver is None:
        return None
    detail = _first_line(driver)
    text = f"{type(driver).__name__} {detail}".lower()
    for needles, message, code in _DATABASE_PROBLEMS:
        if any(needle in text for needle in needles):
            return _(message).format(url=url, detail=detail), code
    return _("database error on {url}: {detail}").format(url=url, detail=detail), FAILURE


def _driver_error(exc: BaseException) -> BaseException | None:
    """The database's own error: what SQLAlchemy wraps, or a driver error raised directly (prepared statements
    run on the DB-API cursor), or SQLAlchemy's own; None for anything else."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return exc.orig
    if isinstance(exc, SQLAlchemyError | sqlite3.Error) or type(exc).__module__.partition(".")[0] == "psycopg":
        return exc
    return None


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = lines[0] if lines else type(exc).__name__
    return first.split(" [SQL:", 1)[0][:300]


def _os_error(exc: OSError) -> str:
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or _first_line(exc)}{where}"
