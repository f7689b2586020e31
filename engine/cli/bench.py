"""``budgetflow bench budget-contention|lifecycle|inbox|memory [--json]``: figures for docs/performance.md.

Each runs on throw-away databases: a temporary SQLite file, and a temporary schema on
$BUDGETFLOW_TEST_DATABASE_URL when that is set. A progress bar on stderr shows how far
it has come (hidden when stderr is not a terminal, and with --json).
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import click

from engine.bench import budget_contention, inbox, lifecycle, lifecycle_processes, memory, posting
from engine.bench.databases import scratch_postgresql, scratch_sqlite
from engine.bench.worker_fleet import FleetReport, environment, run_fleet
from engine.cli.base import group
from engine.cli.i18n import N_, _
from engine.cli.output import emit_json, json_option, note, progress, say

PG_ENV = "BUDGETFLOW_TEST_DATABASE_URL"


@group("bench", examples=("budgetflow bench lifecycle --count 30 --json",
                          f"{PG_ENV}=postgresql://postgres@127.0.0.1:5432/test budgetflow bench inbox"))
def bench() -> None:
    """Measure performance on throw-away databases (figures go to docs/performance.md).

    SQLite always; PostgreSQL too when BUDGETFLOW_TEST_DATABASE_URL is set.
    """


def scratch_databases() -> list[tuple[str, AbstractContextManager[str]]]:
    """A throw-away SQLite file, and a schema on $BUDGETFLOW_TEST_DATABASE_URL when it is set."""
    found: list[tuple[str, AbstractContextManager[str]]] = [("sqlite", scratch_sqlite())]
    if os.environ.get(PG_ENV):
        found.append(("postgresql", scratch_postgresql(os.environ[PG_ENV])))
    return found


def machine(as_json: bool) -> None:
    say(_("machine: {node} {arch}, {cores} cores, Python {python}").format(
        node=platform.node(), arch=platform.machine(), cores=os.cpu_count(), python=platform.python_version()),
        as_json=as_json)


def each_database(databases: list[tuple[str, AbstractContextManager[str]]]) -> Iterator[tuple[str, str]]:
    for name, scratch in databases:
        with scratch as url:
            yield name, url


@bench.command("budget-contention", examples=("budgetflow bench budget-contention --seconds 3 --json",))
@click.option("--seconds", type=click.FloatRange(min=0.1), default=3.0,
              help=N_("duration of each measurement (default 3)"))
@json_option
def contention_command(seconds: float, as_json: bool) -> int:
    """Reservations per second on one hot line against a raw UPDATE; exit 1 on any over-commit."""
    # Clients are threads of this process. With CPython's default 5 ms switch interval a
    # thread returning from a commit waits for the GIL behind threads doing Python work,
    # which measures the GIL rather than the database. A server runs several processes;
    # a short interval here, for ledger and raw runs alike, approximates that.
    sys.setswitchinterval(0.0002)
    machine(as_json)
    databases = scratch_databases()
    results: dict[str, dict[str, Any]] = {}
    steps = len(budget_contention.CLIENT_COUNTS) + 1
    with progress(steps * len(databases), _("measuring"), as_json=as_json) as advance:
        for name, url in each_database(databases):
            report = budget_contention.run(url, seconds=seconds, progress=advance).to_json()
            results[name] = report
            say(_("{name}: reservations/s {ledger}, raw UPDATE/s {raw}, ledger/raw at 8 clients {ratio}, over-commit "
                  "{over}, verify problems {problems}").format(
                name=name, ledger=report["reservations_per_s"], raw=report["raw_update_per_s"],
                ratio=report["ratio_to_raw"], over=report["overcommit"], problems=report["verify_problems"]),
                as_json=as_json)
            for error in report["errors"]:  # type: ignore[attr-defined]  # to_json() gives a list here
                say(f"  error: {error}", as_json=as_json)
    if not os.environ.get(PG_ENV):
        note(_("postgresql: skipped (set {env} to measure it)").format(env=PG_ENV))
    if as_json:
        emit_json(results)
    clean = all(r["overcommit"] == 0 and r["verify_problems"] == 0 and not r["errors"] for r in results.values())
    return 0 if clean else 1


@bench.command("lifecycle", examples=("budgetflow bench lifecycle --count 30 --json",))
@click.option("--count", type=click.IntRange(min=1), default=30, help=N_("lifecycles per measurement (default 30)"))
@click.option("--processes", type=click.IntRange(min=1), default=1,
              help=N_("above 1: also N driver processes on one database against one, in the same run (default 1)"))
@json_option
def lifecycle_command(count: int, processes: int, as_json: bool) -> int:
    """Full lifecycles per second: persisted, in memory, and on stock SpiffWorkflow; and an instance's state size."""
    machine(as_json)
    databases = scratch_databases()
    results: dict[str, object] = {}
    with progress(count * len(databases) + 2, _("measuring"), as_json=as_json) as advance:
        for name, url in each_database(databases):
            rates = lifecycle.paired_rates(url, count=count, progress=advance)
            figures: dict[str, Any] = {"lifecycles_per_s": round(rates.persisted_per_s, 2),
                                       "in_memory_per_s": round(rates.in_memory_per_s, 2),
                                       "overhead_ratio": round(rates.overhead, 2),
                                       **stock_figures(rates)}
            results[name] = figures
            say(_("{name}: {persisted} lifecycles/s persisted, {memory}/s on our engine in memory, {stock}/s on "
                  "stock SpiffWorkflow in memory (same diagrams, taken turn about); overhead {overhead}x; "
                  "persisted {persisted_ratio}x stock, our engine {memory_ratio}x stock").format(
                name=name, persisted=f"{rates.persisted_per_s:.1f}", memory=f"{rates.in_memory_per_s:.1f}",
                stock=f"{rates.stock_per_s:.1f}", overhead=f"{rates.overhead:.2f}",
                persisted_ratio=f"{rates.persisted_to_stock:.2f}", memory_ratio=f"{rates.in_memory_to_stock:.2f}"),
                as_json=as_json)
            if processes > 1:
                figures["processes"] = scale_out(url, name, processes, count, rates.persisted_per_s, as_json)
        states = {}
        for n in (50, 200):
            states[str(n)] = lifecycle.state_figures(n)
            advance(1)
    results["state_bytes"] = {n: f.bytes for n, f in states.items()}
    results["state_load_save_ms"] = {n: round(f.load_save_ms, 2) for n, f in states.items()}
    small, large = states["50"], states["200"]
    say(_("state of one instance: {small} bytes with 50 completed tasks, {large} with 200 ({ratio}x for 4x the tasks); "
          "load + save {small_ms} ms and {large_ms} ms ({ms_ratio}x)").format(
        small=f"{small.bytes:,}", large=f"{large.bytes:,}", ratio=f"{large.bytes / small.bytes:.2f}",
        small_ms=f"{small.load_save_ms:.1f}", large_ms=f"{large.load_save_ms:.1f}",
        ms_ratio=f"{large.load_save_ms / small.load_save_ms:.2f}"), as_json=as_json)
    if as_json:
        emit_json(results)
    return 0


def stock_figures(rates: lifecycle.Rates) -> dict[str, float]:
    """The stock SpiffWorkflow column (issue 13): its rate, and ours as multiples of it."""
    return {"stock_in_memory_per_s": round(rates.stock_per_s, 2),
            "persisted_to_stock": round(rates.persisted_to_stock, 2),
            "in_memory_to_stock": round(rates.in_memory_to_stock, 2)}


def scale_out(url: str, name: str, processes: int, count: int, per_s: float, as_json: bool) -> dict[str, Any]:
    """``processes`` driver processes against one, on the database the paired bench just used."""
    figures = lifecycle_processes.run(url, processes=processes, window_s=lifecycle_processes.window_for(count, per_s))
    found = figures.to_json()
    say(_("{name}: {n} processes {many} lifecycles/s, one process {one}/s: scale-out {ratio}x (per process "
          "{low}-{high} lifecycles)").format(
        name=name, n=processes, many=f"{figures.many_per_s:.1f}", one=f"{figures.one_per_s:.1f}",
        ratio=f"{figures.ratio:.2f}", low=found["per_process_lifecycles"]["min"],
        high=found["per_process_lifecycles"]["max"]), as_json=as_json)
    for window, shares in found.get("pg_activity", {}).items():
        waits = ", ".join(f"{k} {v}" for k, v in shares["wait_shares"].items()) or "-"
        say(_("  {window}: idle in transaction {idle}, active {active}; waits {waits}").format(
            window=window, idle=shares["idle_in_transaction_share"], active=shares["active_share"], waits=waits),
            as_json=as_json)
    return found


@bench.command("inbox", examples=("budgetflow bench inbox", "budgetflow bench inbox --open 5000 --history 50000"))
@click.option("--open", "open_tasks", type=click.IntRange(min=1), default=100_000,
              help=N_("open tasks (default 100,000)"))
@click.option("--history", type=click.IntRange(min=0), default=1_000_000, help=N_("closed tasks (default 1,000,000)"))
@click.option("--queries", type=click.IntRange(min=1), default=200,
              help=N_("queries for random employees (default 200)"))
@json_option
def inbox_command(open_tasks: int, history: int, queries: int, as_json: bool) -> int:
    """The "my tasks" query with many open tasks and a long history."""
    machine(as_json)
    databases = scratch_databases()
    results: dict[str, object] = {}
    units = inbox.work_units(open_tasks=open_tasks, history=history, queries=queries)
    with progress(units * len(databases), _("filling and querying"), as_json=as_json) as advance:
        for name, url in each_database(databases):
            began = time.perf_counter()
            figures = inbox.run(url, open_tasks=open_tasks, history=history, queries=queries, progress=advance)
            results[name] = figures.to_json()
            say(_("{name}: {open} open tasks, {history} closed; my tasks p50 {p50} ms, p95 {p95} ms, max {max} ms; "
                  "busiest person ({busiest} tasks, first page) {busiest_ms} ms; the former full scan {scan} ms "
                  "({seconds} s with the fill)").format(
                name=name, open=f"{figures.open_tasks:,}", history=f"{figures.history:,}",
                p50=f"{figures.p50_ms:.1f}", p95=f"{figures.p95_ms:.1f}", max=f"{figures.max_ms:.1f}",
                busiest=f"{figures.busiest_tasks:,}", busiest_ms=f"{figures.busiest_ms:.1f}",
                scan=f"{figures.full_scan_ms:.0f}", seconds=f"{time.perf_counter() - began:.0f}"), as_json=as_json)
    if as_json:
        emit_json(results)
    return 0


@bench.command("posting", examples=("budgetflow bench posting --json", "budgetflow bench posting --vouchers 1000"))
@click.option("--vouchers", type=click.IntRange(min=1), default=10_000,
              help=N_("vouchers posted to each ERP emulator (default 10,000)"))
@click.option("--ambiguous", type=click.FloatRange(min=0, max=0.9), default=0.3,
              help=N_("share of calls the ERP commits and then times out on (default 0.3)"))
@json_option
def posting_command(vouchers: int, ambiguous: float, as_json: bool) -> int:
    """Vouchers per second to each ERP emulator over loopback HTTP, each posted exactly once despite timeouts."""
    machine(as_json)
    results: dict[str, object] = {}
    with progress(vouchers * len(posting.BENCHED), _("posting"), as_json=as_json) as advance:
        for name, connector in posting.BENCHED.items():
            figures = posting.run(connector, vouchers, ambiguous_ratio=ambiguous, progress=advance)
            results[name] = figures.to_json()
            say(_("{name}: {rate} vouchers/s, {vouchers} vouchers in {attempts} attempts; {duplicates} duplicate(s), "
                  "{missing} missing, {failed} given up").format(
                name=name, rate=f"{figures.vouchers_per_s:.1f}", vouchers=f"{figures.vouchers:,}",
                attempts=f"{figures.attempts:,}", duplicates=figures.duplicates, missing=figures.missing,
                failed=figures.failed), as_json=as_json)
    if as_json:
        emit_json(results)
    exact = all(isinstance(r, dict) and not (r["duplicates"] or r["missing"] or r["failed"]) for r in results.values())
    return 0 if exact else 1


@bench.command("workers", examples=("budgetflow bench workers", "budgetflow bench workers --lifecycles 50 --json"))
@click.option("--workers", type=click.IntRange(min=1), default=2, help=N_("`budgetflow worker` processes (default 2)"))
@click.option("--drivers", type=click.IntRange(min=1), default=2,
              help=N_("driver processes, each running lifecycles through the services (default 2)"))
@click.option("--lifecycles", type=click.IntRange(min=1), default=25, help=N_("lifecycles per driver (default 25)"))
@json_option
def workers_command(workers: int, drivers: int, lifecycles: int, as_json: bool) -> int:
    """Worker processes post what driver processes approve: every claim exactly once; exit 1 if not.

    The drivers run lifecycles through the services and leave the vouchers to real `budgetflow worker`
    processes. Then the ledger and the audit chain are verified too.
    """
    machine(as_json)
    databases = scratch_databases()
    results: dict[str, object] = {}
    with progress(drivers * lifecycles * len(databases), _("measuring"), as_json=as_json) as advance:
        for name, url in each_database(databases):
            with tempfile.TemporaryDirectory(prefix="budgetflow-workers-") as folder:
                report = run_fleet(environment(url, Path(folder)), Path(folder), workers=workers, drivers=drivers,
                                   lifecycles=lifecycles, progress=advance)
            results[name] = report.to_json()
            say_fleet(name, report, as_json)
    if as_json:
        emit_json(results)
    return 0 if all(isinstance(r, dict) and r["ok"] for r in results.values()) else 1


def say_fleet(name: str, report: FleetReport, as_json: bool) -> None:
    said = report.to_json()
    say(_("{name}: {claims} claims from {drivers} drivers posted by {workers} workers in {seconds} s ({rate}/s); "
          "vouchers per worker {by_worker}; exactly once {once}, ledger {ledger}, audit {audit}").format(
        name=name, claims=report.claims, drivers=report.drivers, workers=report.workers, seconds=said["seconds"],
        rate=said["lifecycles_per_s"], by_worker=report.vouchers_by_worker, once=_verdict(report.posting_ok),
        ledger=_verdict(not report.ledger_problems), audit=_verdict(not report.audit_problems)), as_json=as_json)
    for problem in report.problems():
        say(f"  problem: {problem}", as_json=as_json)


def _verdict(ok: bool) -> str:
    return "OK" if ok else _("FAILED")


@bench.command("memory", examples=("budgetflow bench memory --json", "budgetflow bench memory --claims 500 --untuned"))
@click.option("--claims", type=click.IntRange(min=6), default=2000,
              help=N_("requests simulated, as budgetflow simulate runs them (default 2,000)"))
@click.option("--untuned", is_flag=True,
              help=N_("the settings before issue 13 as a control: nothing frozen, CPython's thresholds, 1,000 "
                      "cached workflows"))
@json_option
def memory_command(claims: int, untuned: bool, as_json: bool) -> int:
    """Garbage-collection pauses and resident memory while the simulation runs (SQLite, throw-away)."""
    machine(as_json)
    with progress(claims, _("simulating"), as_json=as_json) as advance:
        figures = memory.run(claims, untuned=untuned, progress=advance)
    found = figures.to_json()
    say(_("{claims} requests in {seconds} s ({settings}); collections by generation 0/1/2: {counts}; longest "
          "pause {max_ms} ms, {over} over 50 ms; {frozen} objects frozen, {tracked} tracked at the end").format(
        claims=f"{claims:,}", seconds=found["seconds"], settings=_("untuned") if untuned else _("tuned"),
        counts="/".join(str(found["collections"][g]["count"]) for g in "012"), max_ms=found["max_pause_ms"],
        over=found["pauses_over_50ms"], frozen=f"{figures.frozen_objects:,}",
        tracked=f"{figures.tracked_objects:,}"), as_json=as_json)
    growth = figures.growth
    say(_("resident memory {start} -> {peak} (peak) -> {end} MiB; growth per 1,000 requests: first third {first} "
          "MiB, last third {last} MiB: {verdict}").format(
        start=found["rss_mib"]["start"], peak=found["rss_mib"]["peak"], end=found["rss_mib"]["end"],
        first=f"{growth.first:.1f}", last=f"{growth.last:.1f}",
        verdict=_("stopped growing") if growth.flat else _("still growing")), as_json=as_json)
    if as_json:
        emit_json({"sqlite": found})
    return 0


def register(cli: click.Group) -> None:
    cli.add_command(bench)
