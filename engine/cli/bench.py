"""``budgetflow bench budget-contention [--json]``."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

from engine.bench import budget_contention
from engine.bench.databases import scratch_postgresql, scratch_sqlite

PG_ENV = "BUDGETFLOW_TEST_DATABASE_URL"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("bench", help="measure performance (figures go to docs/performance.md)")
    bench_sub = p.add_subparsers(dest="bench_command", required=True, metavar="BENCHMARK")
    c = bench_sub.add_parser(
        "budget-contention",
        help=f"reservations/s on one hot line vs a raw UPDATE, on SQLite and on ${PG_ENV} if set",
    )
    c.add_argument("--seconds", type=float, default=3.0, help="duration of each measurement (default 3)")
    c.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    c.set_defaults(handler=run_budget_contention)


def run_budget_contention(args: argparse.Namespace) -> int:
    # Clients are threads of this process. With CPython's default 5 ms switch interval a
    # thread returning from a commit waits for the GIL behind threads doing Python work,
    # which measures the GIL rather than the database. A server runs several processes;
    # a short interval here, for ledger and raw runs alike, approximates that.
    sys.setswitchinterval(0.0002)
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    results: dict[str, dict[str, object]] = {}
    with scratch_sqlite() as url:
        results["sqlite"] = _measure("sqlite", url, args.seconds)
    if os.environ.get(PG_ENV):
        with scratch_postgresql(os.environ[PG_ENV]) as url:
            results["postgresql"] = _measure("postgresql", url, args.seconds)
    else:
        print(f"postgresql: skipped (set {PG_ENV} to measure it)")
    if args.json:
        print(json.dumps(results))
    clean = all(r["overcommit"] == 0 and r["verify_problems"] == 0 and not r["errors"] for r in results.values())
    return 0 if clean else 1


def _measure(name: str, url: str, seconds: float) -> dict[str, object]:
    report = budget_contention.run(url, seconds=seconds).to_json()
    print(f"{name}: reservations/s {report['reservations_per_s']}, raw UPDATE/s {report['raw_update_per_s']}, "
          f"ledger/raw at 8 clients {report['ratio_to_raw']}, over-commit {report['overcommit']}, "
          f"verify problems {report['verify_problems']}")
    for error in report["errors"]:  # type: ignore[attr-defined]
        print(f"  error: {error}")
    return report
