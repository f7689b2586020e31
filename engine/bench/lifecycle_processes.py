"""``budgetflow bench lifecycle --processes N``: lifecycles/s of N driver processes on one database.

Each driver is a process of its own (started with ``spawn``: a fork of a process that holds
threads, pooled connections or a SQLite lock is not safe), runs the bench's lifecycle
(``lifecycle.one_lifecycle``) against the same scratch database, and counts what it completes
in a wall-clock window every driver shares. The same run measures one driver alone and N
together, turn about in ``ROUNDS`` rounds, so ``scale_out_ratio`` compares windows taken under
the same machine load; the single-process figure is a driver of this module too, not the
paired bench, so both sides pay the same costs.

On PostgreSQL a thread of the parent samples ``pg_stat_activity`` every ``SAMPLE_EVERY_S`` on a
connection of its own, counting only the drivers' backends (they carry an ``application_name``
of this run): how many sit *idle in transaction* (Python work inside an open transaction), how
many are active, and what the active ones wait on (``Lock:advisory``, ``Lock:tuple``,
``IO:WALSync``...). Each figure is the mean number of backends in that state divided by the
number of drivers, so 1.0 means "every driver's connection, all the time".
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from engine.bench.lifecycle import one_lifecycle
from engine.bootstrap import build
from engine.config import Settings
from engine.persistence.db import make_engine

ROUNDS = 2  # windows of one driver and of N drivers, taken turn about
MIN_WINDOW_S = 2.0
SAMPLE_EVERY_S = 0.02
START_DELAY_S = 0.2
DRIVER_TIMEOUT_S = 300.0
_ACTIVITY = text(
    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity WHERE application_name = :name")


@dataclass(frozen=True)
class Window:
    """What one window of ``drivers`` processes completed: lifecycles per driver, and how long it took."""

    drivers: int
    counts: tuple[int, ...]
    seconds: float


@dataclass
class Activity:
    """pg_stat_activity samples of the drivers' backends: per sample, how many are in each state."""

    samples: int = 0
    states: Counter[str] = field(default_factory=Counter)
    waits: Counter[str] = field(default_factory=Counter)

    def add(self, rows: list[Any]) -> None:
        self.samples += 1
        for state, wait_type, wait in rows:
            self.states[state or "unknown"] += 1
            if state == "active" and wait_type:
                self.waits[f"{wait_type}:{wait}"] += 1

    def shares(self, drivers: int) -> dict[str, Any]:
        per = max(self.samples, 1) * drivers
        return {"samples": self.samples,
                "idle_in_transaction_share": round(self.states["idle in transaction"] / per, 3),
                "active_share": round(self.states["active"] / per, 3),
                "idle_share": round(self.states["idle"] / per, 3),
                "wait_shares": {k: round(v / per, 3) for k, v in sorted(self.waits.items())}}


@dataclass(frozen=True)
class ScaleOut:
    """One driver against ``processes`` drivers, windows summed over the rounds."""

    processes: int
    window_s: float
    one: list[Window]
    many: list[Window]
    activity: dict[str, Activity]  # "one_process", "n_processes"; empty on SQLite

    @staticmethod
    def _rate(windows: list[Window]) -> float:
        return sum(sum(w.counts) for w in windows) / sum(w.seconds for w in windows)

    @property
    def one_per_s(self) -> float:
        return self._rate(self.one)

    @property
    def many_per_s(self) -> float:
        return self._rate(self.many)

    @property
    def ratio(self) -> float:
        return self.many_per_s / self.one_per_s

    def to_json(self) -> dict[str, Any]:
        per_driver = [sum(w.counts[i] for w in self.many) for i in range(self.processes)]
        found: dict[str, Any] = {
            "processes": self.processes, "window_s": round(self.window_s, 2),
            "one_process_per_s": round(self.one_per_s, 2), "n_processes_per_s": round(self.many_per_s, 2),
            "scale_out_ratio": round(self.ratio, 2),
            "per_process_lifecycles": {"min": min(per_driver), "max": max(per_driver)}}
        if self.activity:
            found["pg_activity"] = {name: a.shares(1 if name == "one_process" else self.processes)
                                    for name, a in self.activity.items()}
        return found


def window_for(count: int, per_s: float) -> float:
    """A window about as long as ``count`` lifecycles of one process take (the paired bench's rate)."""
    return max(MIN_WINDOW_S, count / per_s)


def run(url: str, *, processes: int, window_s: float) -> ScaleOut:
    """``processes`` drivers on ``url`` (seeded and deployed already): one alone, then all, ``ROUNDS`` times."""
    postgres = make_url(url).get_backend_name() == "postgresql"
    name = f"bf_lifecycle_{uuid.uuid4().hex[:8]}"
    driver_url = _with_application_name(url, name) if postgres else url
    one: list[Window] = []
    many: list[Window] = []
    activity: dict[str, Activity] = {"one_process": Activity(), "n_processes": Activity()} if postgres else {}
    with _drivers(driver_url, processes) as drivers:
        for _ in range(ROUNDS):
            for n, windows, key in ((1, one, "one_process"), (processes, many, "n_processes")):
                start = time.time() + START_DELAY_S  # every driver gets the start time before it comes
                with _sampling(url, name, activity.get(key), start):
                    windows.append(drivers.window(n, start, window_s / ROUNDS))
    return ScaleOut(processes, window_s, one, many, activity)


def _with_application_name(url: str, name: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"


# ---------------------------------------------------------------- the driver processes


class _Drivers:
    def __init__(self, url: str, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._results: Any = context.Queue()
        self._commands = [context.Queue() for _ in range(processes)]
        self._processes = [context.Process(target=_drive, args=(url, i, self._commands[i], self._results),
                                           daemon=True) for i in range(processes)]
        for process in self._processes:
            process.start()
        self._collect(processes, "ready")  # each has built its container and run a warm-up lifecycle

    def window(self, drivers: int, start: float, seconds: float) -> Window:
        """The first ``drivers`` processes run lifecycles from ``start`` (wall clock) until ``seconds`` later."""
        for commands in self._commands[:drivers]:
            commands.put((start, start + seconds))
        done = self._collect(drivers, "done")
        counts = tuple(done[i][0] for i in range(drivers))
        return Window(drivers, counts, max(ended for _n, ended in done.values()) - start)

    def _collect(self, expected: int, kind: str) -> dict[int, Any]:
        found: dict[int, Any] = {}
        while len(found) < expected:
            try:
                got, index, payload = self._results.get(timeout=DRIVER_TIMEOUT_S)
            except queue.Empty:
                raise RuntimeError(f"a lifecycle driver sent nothing for {DRIVER_TIMEOUT_S:g} s") from None
            if got == "error":
                raise RuntimeError(f"lifecycle driver {index} failed:\n{payload}")
            assert got == kind, (got, kind)
            found[index] = payload
        return found

    def close(self) -> None:
        for commands in self._commands:
            commands.put(None)
        for process in self._processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()


@contextmanager
def _drivers(url: str, processes: int) -> Iterator[_Drivers]:
    drivers = _Drivers(url, processes)
    try:
        yield drivers
    finally:
        drivers.close()


def _drive(url: str, index: int, commands: Any, results: Any) -> None:
    """A driver process: warm up, then for each (start, stop) command run lifecycles and report how many."""
    try:
        container = build(Settings.from_env({"BUDGETFLOW_DATABASE_URL": url, "BUDGETFLOW_AUDIT_KEY": "b" * 64}))
        runner = container.job_runner()
        one_lifecycle(container, runner, f"w{index}{uuid.uuid4().hex[:8]}")
        results.put(("ready", index, None))
        while (command := commands.get()) is not None:
            start, stop = command
            time.sleep(max(0.0, start - time.time()))
            done = 0
            while time.time() < stop:
                one_lifecycle(container, runner, f"p{index}{uuid.uuid4().hex[:9]}")
                done += 1
            results.put(("done", index, (done, time.time())))
        container.dispose()
    except BaseException:  # noqa: BLE001 - the parent reports it; a silent driver would hang the bench
        results.put(("error", index, traceback.format_exc()))


# ---------------------------------------------------------------- pg_stat_activity


@contextmanager
def _sampling(url: str, name: str, into: Activity | None, start: float) -> Iterator[None]:
    """Sample the drivers' backends into ``into`` from ``start`` until the block ends (nothing when None)."""
    if into is None:
        yield
        return
    stop = threading.Event()
    engine = make_engine(url, pool_size=1)
    thread = threading.Thread(target=_sample, args=(engine, name, into, stop, start), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        engine.dispose()


def _sample(engine: Any, name: str, into: Activity, stop: threading.Event, start: float) -> None:
    # Autocommit: each read is a transaction of its own, so a fresh view of the activity, not a cached one.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        stop.wait(max(0.0, start - time.time()))
        while not stop.wait(SAMPLE_EVERY_S):
            into.add(list(conn.execute(_ACTIVITY, {"name": name})))
