"""What the command line (and later the web app) shows: listings and checks, read through a reader.

Every function here takes the factory of read-only units of work (``Container.reader``):
a snapshot that, on SQLite, takes no write lock and waits for no writer, so reports run
beside a busy worker. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.domain.budget_line import BudgetLineKey
from engine.services.ledger_verify import VerifyReport, verify
from engine.services.ports import UnitOfWorkFactory

Reader = UnitOfWorkFactory  # Container.reader: a read-only snapshot


def schema_revision(reader: Reader) -> str | None:
    """The database's schema revision; None before ``budgetflow init``."""
    with reader() as uow:
        return uow.reports.schema_revision()


def ledger_check(reader: Reader) -> VerifyReport:
    """Every cached balance against the entries (``ledger verify``), in one snapshot."""
    with reader() as uow:
        return verify(uow.reports.line_totals(), uow.reports.reservation_totals())


def balances(reader: Reader, *, prefix: str | None = None, names: bool = False) -> tuple[list[Any], dict[int, Any]]:
    """Budget lines with their balances (and each line's holder and subject names, if asked)."""
    with reader() as uow:
        rows = uow.reports.balances(prefix)
        return rows, (uow.reports.line_names() if names else {})


def open_reservations(reader: Reader, *, now: datetime, older_than_days: int = 0) -> list[Any]:
    """Open reservations, oldest first; only those made ``older_than_days`` or more ago when above 0."""
    cutoff = now - timedelta(days=older_than_days) if older_than_days > 0 else None
    with reader() as uow:
        return list(uow.reports.open_reservations(cutoff))


def find_line(reader: Reader, key: BudgetLineKey) -> int | None:
    with reader() as uow:
        return uow.reports.find_line(key)


def model_versions(reader: Reader) -> list[dict[str, Any]]:
    """Every deployed model version, oldest first: how many instances it has (``instances``) and how many still
    run (``running``), which processes it is active for (``active_for``) and when it was last activated."""
    with reader() as uow:
        return list(uow.instances.versions())


def deployed_model(reader: Reader) -> dict[str, Any] | None:
    """The version new documents start on (the one activated last of those active), or None if none is."""
    active = [v for v in model_versions(reader) if v["active_for"]]
    return max(active, key=lambda v: (v["activated_at"], v["id"])) if active else None


def model_version(reader: Reader, version_id: int) -> dict[str, Any] | None:
    """Deployed model version ``version_id`` as ``model_versions`` lists it, or None."""
    return next((v for v in model_versions(reader) if v["id"] == version_id), None)


def version_files(reader: Reader, version_id: int) -> dict[str, str] | None:
    """The files (relative path -> text) of deployed model version ``version_id``; None if there is none."""
    found = next((v for v in model_versions(reader) if v["id"] == version_id), None)
    if found is None:
        return None
    with reader() as uow:
        return uow.instances.version_files(found["sha256"])


@dataclass(frozen=True)
class Incidents:
    jobs: list[dict[str, Any]]  # connector jobs that gave up
    instances: list[dict[str, Any]]  # instances whose step failed


def incidents(reader: Reader) -> Incidents:
    with reader() as uow:
        return Incidents(list(uow.outbox.incidents()), list(uow.instances.incidents()))


def master_data_imports(reader: Reader) -> list[dict[str, Any]]:
    with reader() as uow:
        return list(uow.reports.master_data_imports())


def master_data_rows(reader: Reader) -> int:
    with reader() as uow:
        return int(uow.reports.master_data_rows())


def audit_row_count(reader: Reader) -> int:
    with reader() as uow:
        return int(uow.reports.audit_row_count())
