"""``budgetflow bench memory``'s judgement (pauses, resident memory's growth) and what it measures: the bounded
cache of live workflows and the process's garbage-collection settings (engine/gc_settings.py)."""

from __future__ import annotations

import gc

import pytest

from engine import gc_settings
from engine.bench.lifecycle import BPMN, ENGINE_SET, START
from engine.bench.memory import FLAT_FLOOR_MIB, Collections, growth, watch
from engine.services.steps import _LiveWorkflows
from engine.workflow import bundle as bundles
from engine.workflow.runtime import WorkflowRun
from engine.workflow.service_tasks import new_script_engine


def samples(mib_at: dict[int, float]) -> list[tuple[int, float]]:
    return sorted(mib_at.items())


def test_memory_that_levels_off_after_warm_up_is_flat():
    warm_up = {n: 100 + n * 0.05 for n in range(0, 700, 70)}  # 35 MiB over the first 700 arrivals
    level = {n: 135 + (n % 3) * 0.2 for n in range(700, 2100, 70)}  # then noise around a level
    found = growth(samples({**warm_up, **level}))
    assert found.first > 40 and found.last < FLAT_FLOOR_MIB and found.flat


def test_negative_control_memory_that_keeps_growing_is_not_flat():
    """What an unbounded cache looks like: the same rate to the end (the check must be able to fail)."""
    found = growth(samples({n: 100 + n * 0.05 for n in range(0, 2100, 70)}))
    assert found.first == pytest.approx(found.last) == pytest.approx(50) and not found.flat


def test_growth_slowing_to_a_third_is_still_growth():
    rate = {n: 100 + n * (0.06 if n < 1000 else 0.02) for n in range(0, 2100, 70)}
    assert not growth(samples(rate)).flat


def test_too_few_samples_to_compare_thirds_are_refused():
    with pytest.raises(ValueError, match="at least 6"):
        growth([(0, 1.0), (1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0)])


def test_pauses_over_the_limit_are_counted_by_any_generation():
    seen = Collections({0: [1.0, 2.0], 1: [49.9], 2: [50.1, 400.0]}, cpu={0: [], 1: [], 2: [30.0, 200.0]})
    assert seen.over() == 2 and seen.max_ms() == 400.0 and seen.over(limit_ms=1000) == 0
    assert seen.to_json()["2"] == {"count": 2, "max_ms": 400.0, "total_ms": 450.1, "max_cpu_ms": 200.0}


def test_watch_times_every_collection_while_it_is_on_and_none_after():
    with watch() as seen:
        gc.collect()
        gc.collect(0)
    gc.collect()
    assert len(seen.pauses[2]) == 1 and len(seen.pauses[0]) == 1 and all(ms >= 0 for ms in seen.pauses[2])


# ---------------------------------------------------------------- what a full collection scans


def _runs(count: int) -> list[WorkflowRun]:
    bundle = bundles.parse(bundles.read_folder(BPMN))
    data = {**START, **ENGINE_SET, "document_no": "TA-M"}
    return [WorkflowRun.start(bundle, "travel_application", data, new_script_engine()) for _ in range(count)]


def _objects_held(cache: _LiveWorkflows, puts: int) -> int:
    """Tracked objects alive after ``puts`` new workflows went through ``cache``: what every full collection
    scans because of it (the workflows it evicted are collected)."""
    bundle = bundles.parse(bundles.read_folder(BPMN))
    data = {**START, **ENGINE_SET, "document_no": "TA-M"}
    gc.collect()
    before = len(gc.get_objects())
    for n in range(puts):
        cache.put(n, 1, WorkflowRun.start(bundle, "travel_application", data, new_script_engine()), size=10_000)
    gc.collect()
    return len(gc.get_objects()) - before


def test_the_cache_is_bounded_by_count_and_by_the_size_of_the_saved_states():
    runs = _runs(12)
    by_count = _LiveWorkflows(capacity=5, max_bytes=10**9)
    by_bytes = _LiveWorkflows(capacity=100, max_bytes=30_000)
    for n, run in enumerate(runs):
        by_count.put(n, 1, run, size=10_000)
        by_bytes.put(n, 1, run, size=10_000)
    assert len(by_count) == 5 and len(by_bytes) == 3
    assert by_count.take(11, 1) is runs[11] and by_count.take(0, 1) is None  # the oldest went first
    by_count.resize(2, 10**9)
    assert len(by_count) == 2


def test_negative_control_the_old_bound_lets_the_cache_hold_many_times_the_objects():
    old = _objects_held(_LiveWorkflows(capacity=1000, max_bytes=2**62), 60)
    new = _objects_held(_LiveWorkflows(capacity=10, max_bytes=2**62), 60)
    assert old > 4 * new > 0


# ---------------------------------------------------------------- the process's settings


def test_start_up_is_frozen_once_and_the_thresholds_are_a_servers():
    gc_settings.settle_after_start_up()  # the first build() of this test process did it already
    assert gc.get_freeze_count() > 0 and gc.get_threshold() == gc_settings.SERVER_THRESHOLDS
    assert gc_settings.settle_after_start_up() is False  # once per process
    try:
        gc_settings.defaults()
        assert gc.get_freeze_count() == 0 and gc.get_threshold() == gc_settings.CPYTHON_THRESHOLDS
        assert gc_settings.settle_after_start_up() is False  # defaults stay until retune
    finally:
        gc_settings.retune()
    assert gc.get_freeze_count() > 0 and gc.get_threshold() == gc_settings.SERVER_THRESHOLDS


def test_what_the_cache_drops_is_released_and_what_it_hands_out_is_not():
    released = []

    class Run:
        def release(self) -> None:
            released.append(self)

    cache = _LiveWorkflows(capacity=2, max_bytes=10**9)
    first, second, third = Run(), Run(), Run()
    cache.put(1, 1, first)  # type: ignore[arg-type]
    cache.put(1, 1, first)  # type: ignore[arg-type]  # the same run again (a second save in one step): kept
    cache.put(2, 1, second)  # type: ignore[arg-type]
    cache.put(3, 1, third)  # type: ignore[arg-type]  # over capacity: the oldest is dropped
    assert released == [first]
    assert cache.take(2, 1) is second and released == [first]  # handed out, not released
    assert cache.take(3, 2) is None and released == [first, third]  # a stale revision is dead


def test_the_untuned_control_leaves_dropped_runs_to_the_collector():
    released = []

    class Run:
        def release(self) -> None:
            released.append(self)

    cache = _LiveWorkflows(capacity=1, max_bytes=10**9)
    cache.releases = False
    cache.put(1, 1, Run())  # type: ignore[arg-type]
    cache.put(2, 1, Run())  # type: ignore[arg-type]
    assert len(cache) == 1 and released == []
