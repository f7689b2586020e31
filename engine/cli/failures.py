"""Every failure the command line knows, as one line and an exit code; never a traceback.

Exit codes: 0 done; 1 the command ran and found a problem or could not finish (a check
that fails, a database that is locked, read-only or unreachable, an internal error);
2 a usage or configuration error, or a request the rules refuse (wrong arguments, a
malformed setting, a bad database URL, a missing driver, a schema not created yet).
Unknown exceptions are internal errors; ``BUDGETFLOW_DEBUG=1`` shows their traceback.
"""

from __future__ import annotations

from connectors.base import ConnectorError
from engine.cli.i18n import N_, _
from engine.config import PREFIX, SettingInvalid, redact_url
from engine.domain.errors import BudgetflowError
from engine.persistence.db_errors import classify
from engine.worker import DatabaseUnusable

USAGE = 2
FAILURE = 1
DEBUG_ENV = f"{PREFIX}DEBUG"

# What to say for each kind of database problem engine.persistence.db_errors finds (translated; {url} is
# redacted, {detail} is the driver's first line where it names a place, never a statement). The exit code
# follows the kind: 1 for what waiting may cure (an outage, a lock), 2 for configuration.
_DATABASE_MESSAGES: dict[str, str] = {
    "no_schema": N_("database not initialised: {url} has no budgetflow tables; run `budgetflow init`"),
    "schema_outdated": N_("the database schema of {url} is older than this budgetflow: run `budgetflow init` to "
                          "upgrade it"),
    "locked": N_("database is locked: another process has held {url} for longer than the busy timeout; try again, "
                 "or find the process that holds it"),
    "read_only": N_("the database {url} is read-only: give the user running budgetflow write access to the file and "
                    "its folder"),
    "io_error": N_("cannot read or write the database {url} ({detail}): check the disk, the file, its folder and "
                   "their permissions"),
    "disk_full": N_("the disk holding the database {url} is full: free some space"),
    "unreachable": N_("cannot reach the database at {url}: is the server running and the URL right? ({detail})"),
    "connection_lost": N_("the connection to the database {url} was lost; try again once it is back"),
    "bad_url": N_("BUDGETFLOW_DATABASE_URL ({url}) cannot be used: {detail}; fix the URL, the user, the password "
                  "or the database name"),
    "driver_missing": N_("the database driver for {url} is not installed ({detail}); budgetflow runs on SQLite "
                         "and on PostgreSQL through psycopg 3"),
}


def explain(exc: BaseException, settings_url: str | None) -> tuple[str, int]:
    """One line saying what is wrong and what to do, and the exit code."""
    url = redact_url(settings_url) if settings_url else _("the configured database")
    if isinstance(exc, SettingInvalid):
        return _("configuration: {problem}").format(problem=exc), USAGE
    found = _database_problem(exc, url)
    if found is not None:
        return found
    if isinstance(exc, BudgetflowError):
        return str(exc), USAGE
    if isinstance(exc, ConnectorError):  # another system (the ERP, an OA suite) refused or did not answer
        return (_("{code}: {message}").format(code=exc.code, message=_first_line(exc)),
                FAILURE if exc.retryable else USAGE)
    if isinstance(exc, TimeoutError):
        return _("gave up waiting: {detail}").format(detail=_first_line(exc)), FAILURE
    if isinstance(exc, OSError):
        return _os_error(exc), FAILURE
    return (_("internal error: {kind}: {detail}; set {env}=1 for the traceback").format(
        kind=type(exc).__name__, detail=_first_line(exc), env=DEBUG_ENV), FAILURE)


def _database_problem(exc: BaseException, url: str) -> tuple[str, int] | None:
    """A database problem (db_errors.classify: the same verdict the worker acts on) as one translated line."""
    found = exc.problem if isinstance(exc, DatabaseUnusable) else classify(exc)
    if found is None:
        return None
    code = FAILURE if found.transient else USAGE
    template = _DATABASE_MESSAGES.get(found.kind)
    if template is None:  # "other": the driver's first line (never SQL: hide_parameters and the split below)
        return _("database error on {url}: {detail}").format(url=url, detail=_first_line(exc)), code
    return _(template).format(url=url, detail=found.detail or type(exc).__name__), code


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = lines[0] if lines else type(exc).__name__
    return first.split(" [SQL:", 1)[0][:300]


def _os_error(exc: OSError) -> str:
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or _first_line(exc)}{where}"
