"""Throw-away databases for benchmarks: a temporary SQLite file, a temporary PostgreSQL schema."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

from engine.config import normalise_url
from engine.persistence import schema
from engine.persistence.db import make_engine


@contextmanager
def scratch_sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="budgetflow-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        _migrate(url)
        yield url


@contextmanager
def scratch_postgresql(base_url: str) -> Iterator[str]:
    base = normalise_url(base_url)
    name = f"bf_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        url = f"{base}{'&' if '?' in base else '?'}options={quote(f'-csearch_path={name}')}"
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
    finally:
        engine.dispose()
