"""``budgetflow bench memory``: garbage-collection pauses and resident memory over a long simulation.

The run is ``budgetflow simulate``'s (engine/simulation: the demo company's population through the shipped
diagrams on a virtual clock) in a throw-away SQLite database. ``gc.callbacks`` times every collection of the
cycle collector, by generation; resident memory (``/proc/self/statm``) is sampled every few arrivals. Memory
has stopped growing when the last third of the run grows by at most a quarter of the first third's rate
(the warm-up: caches filling, SQLite's page caches, the allocator's arenas), or by less than a floor that
is noise at this scale (``Growth``).

``untuned`` measures the process as it was before engine/gc_settings.py: nothing frozen, CPython's default
thresholds, 1,000 live workflows cached and what the cache drops left to the collector (the control that shows
what the settings change).
"""

from __future__ import annotations

import gc
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from engine import gc_settings
from engine.bench.databases import scratch_sqlite
from engine.bootstrap import build
from engine.config import SHIPPED_BPMN, Settings
from engine.services import processes, steps
from engine.services.masterdata.importing import seed_demo
from engine.simulation import Simulator, load_population
from engine.workflow.bundle import read_folder

PAUSE_LIMIT_MS = 50.0  # issue 13: no collection may pause the engine longer than this
FLAT_SHARE = 0.25  # the last third may grow at most this share of the first third's rate ...
FLAT_FLOOR_MIB = 2.0  # ... or this many MiB per 1,000 arrivals, whichever is larger
UNTUNED_LIVE_CAPACITY = 1000  # the cache's bound before issue 13 (and no bound on bytes)
SAMPLES = 30  # resident-memory samples over a run's arrivals (and one after it)


@dataclass
class Collections:
    """Every collection's pause in ms, by generation (0 young, 2 full), while ``watch`` is on."""

    pauses: dict[int, list[float]] = field(default_factory=lambda: {0: [], 1: [], 2: []})
    cpu: dict[int, list[float]] = field(default_factory=lambda: {0: [], 1: [], 2: []})  # the same, in CPU ms
    collected: int = 0  # unreachable objects the collections found (cyclic garbage)

    def over(self, limit_ms: float = PAUSE_LIMIT_MS) -> int:
        return sum(1 for found in self.pauses.values() for ms in found if ms > limit_ms)

    def max_ms(self) -> float:
        return max((ms for found in self.pauses.values() for ms in found), default=0.0)

    def to_json(self) -> dict[str, Any]:
        return {str(gen): {"count": len(found), "max_ms": round(max(found, default=0.0), 1),
                           "total_ms": round(sum(found), 1), "max_cpu_ms": round(max(self.cpu[gen], default=0.0), 1)}
                for gen, found in self.pauses.items()}


@contextmanager
def watch() -> Iterator[Collections]:
    """Time every collection of the cycle collector until the block ends."""
    seen = Collections()
    started = [0.0, 0.0]

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[:] = time.perf_counter(), time.thread_time()
        else:
            generation = int(info["generation"])
            seen.pauses[generation].append((time.perf_counter() - started[0]) * 1000)
            seen.cpu[generation].append((time.thread_time() - started[1]) * 1000)
            seen.collected += int(info["collected"])

    gc.callbacks.append(callback)
    try:
        yield seen
    finally:
        gc.callbacks.remove(callback)


def rss_mib() -> float:
    """This process's resident memory in MiB (Linux; 0 where /proc is missing)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            resident_pages = int(statm.read().split()[1])
    except OSError:
        return 0.0
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass(frozen=True)
class Growth:
    """Resident memory's growth in MiB per 1,000 arrivals over the first and the last third of the samples."""

    first: float
    last: float

    @property
    def flat(self) -> bool:
        return self.last <= max(self.first * FLAT_SHARE, FLAT_FLOOR_MIB)


def growth(samples: list[tuple[int, float]]) -> Growth:
    """``samples``: (arrivals so far, MiB), in order; at least two per third."""
    third = len(samples) // 3
    if third < 2:
        raise ValueError(f"{len(samples)} samples: at least 6 are needed to compare thirds")
    return Growth(_slope(samples[:third]) * 1000, _slope(samples[-third:]) * 1000)


def _slope(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of y over x."""
    n = len(points)
    mean_x = sum(x for x, _y in points) / n
    mean_y = sum(y for _x, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _y in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


@dataclass(frozen=True)
class MemoryFigures:
    claims: int
    seconds: float
    tuned: bool
    live_capacity: int
    collections: Collections
    samples: list[tuple[int, float]]
    frozen_objects: int
    tracked_objects: int  # what a full collection scans at the end of the run

    @property
    def growth(self) -> Growth:
        """Judged on the samples taken as requests arrived: the last one, after the run, also holds what the
        simulation's closing tally reads (the whole run's figures), which is the report's, not the engine's."""
        return growth(self.samples[:-1])

    @property
    def goals_met(self) -> bool:
        return self.collections.over() == 0 and self.growth.flat

    def to_json(self) -> dict[str, Any]:
        found = self.growth
        return {
            "claims": self.claims, "seconds": round(self.seconds, 1), "tuned": self.tuned,
            "live_workflow_capacity": self.live_capacity, "thresholds": list(gc.get_threshold()),
            "frozen_objects": self.frozen_objects, "tracked_objects": self.tracked_objects,
            "collections": self.collections.to_json(), "max_pause_ms": round(self.collections.max_ms(), 1),
            "collected_objects": self.collections.collected,
            "pauses_over_50ms": self.collections.over(),
            "rss_mib": {"start": round(self.samples[0][1], 1), "peak": round(max(m for _n, m in self.samples), 1),
                        "end": round(self.samples[-1][1], 1)},
            "rss_growth_mib_per_1000": {"first_third": round(found.first, 2), "last_third": round(found.last, 2)},
            "rss_flat": found.flat, "goals_met": self.goals_met,
            "samples": [[n, round(mib, 1)] for n, mib in self.samples],
        }


def run(claims: int, *, seed: int = 2026, untuned: bool = False,
        progress: Callable[[int], None] = lambda _n: None) -> MemoryFigures:
    """Simulate ``claims`` arrivals, timing every collection and sampling resident memory."""
    every = max(1, claims // SAMPLES)
    with scratch_sqlite() as url, _settings(untuned) as capacity:
        container = build(Settings.from_env({"BUDGETFLOW_DATABASE_URL": url, "BUDGETFLOW_AUDIT_KEY": "m" * 64}))
        try:
            seed_demo(container.masterdata_store)
            files = read_folder(SHIPPED_BPMN)
            processes.deploy(container.uow, files, by="E0016")
            simulator = Simulator(container, load_population(None), random.Random(seed), files,  # noqa: S311
                                  run_id="memory")
            samples = [(0, rss_mib())]
            arrived = [0]

            def arrival(n: int) -> None:
                arrived[0] += n
                progress(n)
                if arrived[0] % every == 0:
                    samples.append((arrived[0], rss_mib()))

            began = time.perf_counter()
            with watch() as collections:
                simulator.run(claims, progress=arrival)
            seconds = time.perf_counter() - began
            samples.append((arrived[0], rss_mib()))
            frozen, tracked = gc.get_freeze_count(), len(gc.get_objects())
        finally:
            container.dispose()
    return MemoryFigures(claims, seconds, not untuned, capacity, collections, samples, frozen, tracked)


@contextmanager
def _settings(untuned: bool) -> Iterator[int]:
    """The process's garbage-collection settings for the run (the untuned ones restored to tuned after)."""
    gc_settings.settle_after_start_up()  # as the first build() of a process does: a later one then does not
    if not untuned:
        yield steps.LIVE_CAPACITY
        return
    gc_settings.defaults()
    steps.resize_live_cache(UNTUNED_LIVE_CAPACITY, 2**62, releases=False)
    try:
        yield UNTUNED_LIVE_CAPACITY
    finally:
        steps.resize_live_cache()
        gc_settings.retune()
