"""The ``budgetflow`` command line. Each area registers its subcommands from its own module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from engine.cli import audit, bench, demo, instances, ledger, masterdata, setup, simulate, workflow
from engine.domain.errors import BudgetflowError

AREAS = (setup, masterdata, ledger, demo, simulate, workflow, instances, bench, audit)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="budgetflow",
        description="Budget control and expense reimbursement. Database: $BUDGETFLOW_DATABASE_URL "
        "(default: SQLite under ./instance).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for area in AREAS:
        area.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except BudgetflowError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
