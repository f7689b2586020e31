"""``budgetflow import-master-data PATH`` and ``budgetflow seed demo``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.bootstrap import Container, build
from engine.config import redact_url
from engine.domain.errors import MasterDataInvalid
from engine.domain.masterdata.records import ImportSummary
from engine.persistence import schema
from engine.seed import demo_folder
from engine.services.masterdata.folder import ReadLimits
from engine.services.masterdata.importing import import_master_data

_LABELS = {"currencies": "currencies", "org_units": "org units", "employees": "employees",
           "expense_subjects": "expense subjects", "cost_centers": "cost centers", "budget_lines": "budget lines"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("import-master-data", help="validate a data-dictionary folder and import it, all or nothing")
    p.add_argument("path", type=Path, metavar="PATH",
                   help="folder with manifest.toml and the CSV files (see docs/master-data.md)")
    p.set_defaults(handler=run_import)
    s = sub.add_parser("seed", help="load shipped sample data (creates the schema if needed)")
    s.add_argument("dataset", choices=["demo"], help="demo: a Chinese demo company with FY2026 budgets")
    s.set_defaults(handler=run_seed)


def run_import(args: argparse.Namespace) -> int:
    container = build()
    try:
        if not _schema_is_current(container):
            return 2
        return import_folder(container, args.path)
    finally:
        container.dispose()


def run_seed(_args: argparse.Namespace) -> int:
    container = build()
    try:
        schema.upgrade(container.engine)  # seeding is how people try budgetflow out: no separate init step
        return import_folder(container, demo_folder())
    finally:
        container.dispose()


def _schema_is_current(container: Container) -> bool:
    current, head = schema.current_revision(container.engine), schema.head_revision()
    if current == head:
        return True
    state = "has no budgetflow tables" if current is None else f"is at schema revision {current}, not {head}"
    where = redact_url(container.settings.database_url)
    print(f"error: the database {where} {state}; run `budgetflow init` first", file=sys.stderr)
    return False


def import_folder(container: Container, path: Path) -> int:
    try:
        settings = container.settings
        limits = ReadLimits(settings.masterdata_max_bytes, settings.masterdata_max_total_bytes)
        summary = import_master_data(path, container.masterdata_store, limits=limits)
    except MasterDataInvalid as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) in {path}; nothing was imported", file=sys.stderr)
        return 1
    print(format_summary(summary, path))
    return 0


def format_summary(summary: ImportSummary, path: Path) -> str:
    verdict = "imported" if summary.changed else "already up to date, nothing changed"
    lines = [f"master data {summary.version} ({summary.company}) from {path}: {verdict}"]
    for name, c in summary.counts.items():
        lines.append(f"  {_LABELS[name]:<17} {c.created:>4} created {c.updated:>4} updated {c.unchanged:>4} unchanged")
    lines.append(f"  {'budget ledger':<17} {summary.allocations:>4} ALLOCATE and {summary.adjustments} ADJUST entries")
    return "\n".join(lines)
