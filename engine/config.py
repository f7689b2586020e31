"""Settings: read once from the environment into a frozen object; no Flask here.

Where things live never depends on the current folder. The instance folder (SQLite database,
development audit key, audit anchor) is ``BUDGETFLOW_INSTANCE_DIR`` if set, else the per-user data
folder the platform defines (``$XDG_DATA_HOME/budgetflow``, by default ``~/.local/share/budgetflow`` on
Linux; ``~/Library/Application Support/budgetflow`` on macOS; ``%LOCALAPPDATA%\\budgetflow`` on Windows),
found with platformdirs as pip and other tools do. The diagrams folder is ``BUDGETFLOW_BPMN_DIR`` if
set, else the ``bpmn`` folder shipped next to the ``engine`` package.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import platformdirs

from engine.domain.errors import BudgetflowError

T = TypeVar("T", int, float)

PREFIX = "BUDGETFLOW_"
MIB = 1024 * 1024
SHIPPED_BPMN = Path(__file__).resolve().parents[1] / "bpmn"


class SettingInvalid(BudgetflowError, ValueError):
    """A BUDGETFLOW_* environment variable holds something that is not a valid value."""

    code = "SETTING_INVALID"


def default_instance_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The per-user data folder for budgetflow (honours XDG_DATA_HOME on Linux)."""
    env = os.environ if environ is None else environ
    xdg = env.get("XDG_DATA_HOME")
    if xdg and os.path.isabs(xdg):  # platformdirs reads os.environ; an explicit mapping must win
        return Path(xdg) / "budgetflow"
    return Path(platformdirs.user_data_dir("budgetflow", appauthor=False))


@dataclass(frozen=True, slots=True)
class Settings:
    instance_dir: Path
    database_url: str
    bpmn_dir: Path = SHIPPED_BPMN  # the diagrams `bpmn check`/`deploy` read when given no folder
    outbox_max_attempts: int = 5
    outbox_backoff_seconds: float = 2.0  # doubles each attempt, up to the cap
    outbox_backoff_cap_seconds: float = 600.0
    outbox_lease_seconds: float = 60.0  # a crashed worker's job becomes due again after this
    reservation_valid_days: int = 0  # release what a finished request still holds after this; 0: never
    masterdata_max_bytes: int = 20 * MIB  # largest data-dictionary file import-master-data reads
    masterdata_max_total_bytes: int = 50 * MIB  # and all of a folder's dictionary files together
    sqlite_busy_timeout_seconds: float = 60.0  # a SQLite writer waits this long for the write lock, then fails
    public_url: str = "http://127.0.0.1:8000"  # where people reach the web app: links in OA messages
    oa_sync_interval_seconds: float = 3600.0  # the worker syncs people from the OA suites this often; 0: never
    payment_sync_interval_seconds: float = 900.0  # the worker reads payments back from the ERP this often; 0: never
    reconcile_interval_seconds: float = 86400.0  # the worker reconciles the ERP's book this often; 0: never

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        instance = _folder(env, "INSTANCE_DIR") or default_instance_dir(env)
        url = env.get(f"{PREFIX}DATABASE_URL") or f"sqlite:///{instance / 'budgetflow.db'}"
        return cls(
            instance_dir=instance, database_url=normalise_url(url),
            bpmn_dir=_folder(env, "BPMN_DIR") or SHIPPED_BPMN,
            outbox_max_attempts=_number(env, "OUTBOX_MAX_ATTEMPTS", int, 5),
            outbox_backoff_seconds=_number(env, "OUTBOX_BACKOFF_SECONDS", float, 2.0),
            outbox_backoff_cap_seconds=_number(env, "OUTBOX_BACKOFF_CAP_SECONDS", float, 600.0),
            outbox_lease_seconds=_number(env, "OUTBOX_LEASE_SECONDS", float, 60.0),
            reservation_valid_days=_number(env, "RESERVATION_VALID_DAYS", int, 0),
            masterdata_max_bytes=_number(env, "MASTERDATA_MAX_BYTES", int, 20 * MIB),
            masterdata_max_total_bytes=_number(env, "MASTERDATA_MAX_TOTAL_BYTES", int, 50 * MIB),
            sqlite_busy_timeout_seconds=_number(env, "SQLITE_BUSY_TIMEOUT_SECONDS", float, 60.0),
            public_url=_url(env, "PUBLIC_URL", "http://127.0.0.1:8000"),
            oa_sync_interval_seconds=_number(env, "OA_SYNC_INTERVAL", float, 3600.0),
            payment_sync_interval_seconds=_number(env, "PAYMENT_SYNC_INTERVAL", float, 900.0),
            reconcile_interval_seconds=_number(env, "RECONCILE_INTERVAL", float, 86400.0),
        )


def _folder(env: Mapping[str, str], name: str) -> Path | None:
    """An explicitly set folder, made absolute once (``~`` expanded) so later chdirs cannot move it."""
    raw = env.get(PREFIX + name, "").strip()
    return Path(raw).expanduser().resolve() if raw else None


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(PREFIX + name, "").strip()
    if not raw:
        return default
    if not raw.startswith(("https://", "http://")) or " " in raw:
        raise SettingInvalid(f"{PREFIX}{name}={raw!r} is not an http(s) address such as https://budget.example.com")
    return raw.rstrip("/")


_KINDS = {int: "a whole number", float: "a number"}


def _number(env: Mapping[str, str], name: str, kind: type[T], default: T) -> T:
    raw = env.get(PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw.strip())
    except ValueError:
        raise SettingInvalid(f"{PREFIX}{name}={raw!r} is not {_KINDS[kind]} (default {default}); "
                             f"fix or unset it") from None
    if not (math.isfinite(value) and value >= 0):
        raise SettingInvalid(f"{PREFIX}{name}={raw!r} must be a finite number, zero or more (default {default})")
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
