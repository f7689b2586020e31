"""Garbage collection for a long-running engine process (docs/engine.md, "Garbage collection and memory").

CPython's cycle collector pauses the process for a time proportional to the container objects it scans.
A full collection scans every tracked object, and after start-up most of them never die: imported modules,
SQLAlchemy's tables and compiled statements, the parsed diagrams. ``settle_after_start_up`` collects once and
then moves everything alive into the permanent generation (``gc.freeze``), where no collection looks again,
and sets the thresholds below.

What keeps a full collection short is what it has left to scan: the frozen start-up (some 115,000 objects)
no longer counts, the cache of live workflows is bounded (engine/services/steps.py), and the workflows that
cache drops are freed by reference counting as they go (``WorkflowRun.release``), not by a collection.

It runs once per process, from ``engine.bootstrap.build``: the one path the command line, the worker and the
web app all take before they serve. ``defaults`` undoes it (``budgetflow bench memory --untuned`` measures the
process as it was before).
"""

from __future__ import annotations

import gc
import threading

# (young, middle, old), chosen by measurement (docs/engine.md): CPython's own. Larger young thresholds were
# measured (2,000, 10,000, 20,000 over `bench memory --claims 300`): each young and middle collection then finds
# more, pausing 5-170 ms of CPU instead of 1-6 ms, and full collections come so rarely that resident memory
# keeps growing, with no gain in throughput that showed. Set explicitly so that the choice is visible.
SERVER_THRESHOLDS = (700, 10, 10)
CPYTHON_THRESHOLDS = (700, 10, 10)

_lock = threading.Lock()
_settled = False


def settle_after_start_up() -> bool:
    """Freeze what start-up built and set the server thresholds; once per process (False if done before)."""
    global _settled
    with _lock:
        if _settled:
            return False
        _settled = True
    retune()
    return True


def retune() -> None:
    """Collect, freeze what is alive and set the server thresholds (again, after ``defaults``)."""
    gc.collect()  # start-up's own garbage goes first: frozen, it would never be collected
    gc.freeze()
    gc.set_threshold(*SERVER_THRESHOLDS)


def defaults() -> None:
    """CPython's own settings: nothing frozen, the default thresholds (until ``retune``; a later
    ``settle_after_start_up`` does nothing, as it has run once in this process)."""
    global _settled
    with _lock:
        _settled = True
    gc.unfreeze()
    gc.set_threshold(*CPYTHON_THRESHOLDS)
