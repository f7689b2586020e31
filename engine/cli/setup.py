"""``budgetflow init``: create or upgrade the schema."""

from __future__ import annotations

import argparse

from engine.bootstrap import build
from engine.config import redact_url
from engine.persistence import schema


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help="create or upgrade the database schema (Alembic)")
    p.set_defaults(handler=run_init)


def run_init(_args: argparse.Namespace) -> int:
    container = build()
    try:
        before = schema.current_revision(container.engine)
        schema.upgrade(container.engine)
        after = schema.current_revision(container.engine)
    finally:
        container.dispose()
    where = redact_url(container.settings.database_url)
    change = "unchanged" if before == after else f"upgraded from {before or 'an empty database'}"
    print(f"schema at revision {after} ({change}) on {where}")
    return 0
