"""Settings: read once from the environment into a frozen object; no Flask here."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T", int, float)

PREFIX = "BUDGETFLOW_"
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    instance_dir: Path
    database_url: str
    outbox_max_attempts: int = 5
    outbox_backoff_seconds: float = 2.0  # doubles each attempt, up to the cap
    outbox_backoff_cap_seconds: float = 600.0
    outbox_lease_seconds: float = 60.0  # a crashed worker's job becomes due again after this
    reservation_valid_days: int = 0  # release what a finished request still holds after this; 0: never
    masterdata_max_bytes: int = 20 * MIB  # largest data-dictionary file import-master-data reads
    masterdata_max_total_bytes: int = 50 * MIB  # and all of a folder's dictionary files together
    sqlite_busy_timeout_seconds: float = 60.0  # a SQLite writer waits this long for the write lock, then fails

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        instance = Path(env.get(f"{PREFIX}INSTANCE_DIR", "instance")).resolve()
        url = env.get(f"{PREFIX}DATABASE_URL") or f"sqlite:///{instance / 'budgetflow.db'}"
        return cls(
            instance_dir=instance, database_url=normalise_url(url),
            outbox_max_attempts=_number(env, "OUTBOX_MAX_ATTEMPTS", int, 5),
            outbox_backoff_seconds=_number(env, "OUTBOX_BACKOFF_SECONDS", float, 2.0),
            outbox_backoff_cap_seconds=_number(env, "OUTBOX_BACKOFF_CAP_SECONDS", float, 600.0),
            outbox_lease_seconds=_number(env, "OUTBOX_LEASE_SECONDS", float, 60.0),
            reservation_valid_days=_number(env, "RESERVATION_VALID_DAYS", int, 0),
            masterdata_max_bytes=_number(env, "MASTERDATA_MAX_BYTES", int, 20 * MIB),
            masterdata_max_total_bytes=_number(env, "MASTERDATA_MAX_TOTAL_BYTES", int, 50 * MIB),
            sqlite_busy_timeout_seconds=_number(env, "SQLITE_BUSY_TIMEOUT_SECONDS", float, 60.0),
        )


def _number(env: Mapping[str, str], name: str, kind: type[T], default: T) -> T:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)  # type: ignore[call-arg]
    except ValueError:
        raise ValueError(f"{PREFIX}{name}={raw!r} is not a {kind.__name__}") from None
    if value < 0:  # type: ignore[operator]
        raise ValueError(f"{PREFIX}{name} must not be negative")
    return value


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and route them to psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def redact_url(url: str) -> str:
    """The URL with any password replaced, safe for logs and error messages."""
    head, sep, tail = url.partition("://")
    if not sep or "@" not in tail:
        return url
    creds, _, host = tail.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{head}://{user}:***@{host}" if ":" in creds else url
