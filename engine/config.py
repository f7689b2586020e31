"""Settings: read once from the environment into a frozen object; no Flask here."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PREFIX = "BUDGETFLOW_"


@dataclass(frozen=True, slots=True)
class Settings:
    instance_dir: Path
    database_url: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        instance = Path(env.get(f"{PREFIX}INSTANCE_DIR", "instance")).resolve()
        url = env.get(f"{PREFIX}DATABASE_URL") or f"sqlite:///{instance / 'budgetflow.db'}"
        return cls(instance_dir=instance, database_url=normalise_url(url))


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
