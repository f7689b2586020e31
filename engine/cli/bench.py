"""``budgetflow bench budget-contention|lifecycle|inbox [--json]``."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from typing import Any

from engine.bench import budget_contention, inbox, lifecycle
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
    lc = bench_sub.add_parser(
        "lifecycle", help=f"full lifecycles/s persisted vs in memory, on SQLite and on ${PG_ENV} if set")
    lc.add_argument("--count", type=int, default=30, help="lifecycles per measurement (default 30)")
    lc.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    lc.set_defaults(handler=run_lifecycle)
    ib = bench_sub.add_parser(
        "inbox", help=f"the 'my tasks' query with many open tasks and a long history, on SQLite and on ${PG_ENV}")
    ib.add_argument("--open", type=int, default=100_000, dest="open_tasks", help="open tasks (default 100,000)")
    ib.add_argument("--history", type=int, default=1_000_000, help="closed tasks (default 1,000,000)")
    ib.add_argument("--queries", type=int, default=200, help="queries for random employees (default 200)")
    ib.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    ib.set_defaults(handler=run_inbox)


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


def _scratch_databases() -> list[tuple[str, Any]]:
    """A throw-away SQLite file, and a schema on ${PG_ENV} when it is set: (name, context manager giving a URL)."""
    databases: list[tuple[str, Any]] = [("sqlite", scratch_sqlite())]
    if os.environ.get(PG_ENV):
        databases.append(("postgresql", scratch_postgresql(os.environ[PG_ENV])))
    return databases


def run_lifecycle(args: argparse.Namespace) -> int:
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    results: dict[str, object] = {}
    databases = _scratch_databases()
    for name, scratch in databases:
        with scratch as url:
            rates = lifecycle.paired_rates(url, count=args.count)
        results[name] = {"lifecycles_per_s": round(rates.persisted_per_s, 2),
                         "in_memory_per_s": round(rates.in_memory_per_s, 2), "overhead_ratio": round(rates.overhead, 2)}
        print(f"{name}: {rates.persisted_per_s:.1f} lifecycles/s persisted, {rates.in_memory_per_s:.1f}/s in memory "
              f"(SpiffWorkflow alone, same diagrams, taken turn about); overhead {rates.overhead:.2f}x")
    states = {str(n): lifecycle.state_figures(n) for n in (50, 200)}
    results["state_bytes"] = {n: f.bytes for n, f in states.items()}
    results["state_load_save_ms"] = {n: round(f.load_save_ms, 2) for n, f in states.items()}
    small, large = states["50"], states["200"]
    print(f"state of one instance: {small.bytes:,} bytes with 50 completed tasks, {large.bytes:,} with 200 "
          f"({large.bytes / small.bytes:.2f}x for 4x the tasks); load + save {small.load_save_ms:.1f} ms and "
          f"{large.load_save_ms:.1f} ms ({large.load_save_ms / small.load_save_ms:.2f}x)")
    if args.json:
        print(json.dumps(results))
    return 0


def run_inbox(args: argparse.Namespace) -> int:
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    databases = _scratch_databases()
    results: dict[str, object] = {}
    for name, scratch in databases:
        with scratch as url:
            began = time.perf_counter()
            figures = inbox.run(url, open_tasks=args.open_tasks, history=args.history, queries=args.queries)
        results[name] = figures.to_json()
        print(f"{name}: {figures.open_tasks:,} open tasks, {figures.history:,} closed; my tasks p50 "
              f"{figures.p50_ms:.1f} ms, p95 {figures.p95_ms:.1f} ms, max {figures.max_ms:.1f} ms; busiest person "
              f"({figures.busiest_tasks:,} tasks, first page) {figures.busiest_ms:.1f} ms; the former full scan "
              f"{figures.full_scan_ms:.0f} ms ({time.perf_counter() - began:.0f} s with the fill)")
    if args.json:
        print(json.dumps(results))
    return 0
