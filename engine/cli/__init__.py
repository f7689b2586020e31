"""The ``budgetflow`` command line (click). Each area adds its commands from its own module."""

from __future__ import annotations

from collections.abc import Sequence

from engine.cli import (
    accounts,
    audit,
    bench,
    bpmn_lanes,
    bpmn_scenarios,
    erp,
    info,
    instances,
    ledger,
    ledger_tour,
    masterdata,
    oa,
    setup,
    simulate,
    stats,
    worker,
    workflow,
)
from engine.cli.app import cli

AREAS = (setup, info, masterdata, ledger, ledger_tour, simulate, workflow, bpmn_lanes, worker, instances, bench,
         audit, accounts, oa, erp, stats, bpmn_scenarios)
for _area in AREAS:
    _area.register(cli)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``budgetflow ARGS``; returns the exit code (see ``budgetflow --help``)."""
    return cli.main(list(argv) if argv is not None else None, standalone_mode=False)


__all__ = ["cli", "main"]
