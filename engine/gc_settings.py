"""Garbage collection for a long-running engine process (docs/engine.md, "Garbage collection and memory").

CPython's cycle collector pauses the process for a time proportional to the container objects it scans.
A full collection scans every tracked object, and after start-up most of them never die: imported modules,
SQLAlchemy's tables and compiled statements, the parsed diagrams. ``settle_after_start_up`` collects once and
then moves everything alive into the permanent generation (``gc.freeze``), where no collection looks again,
and raises the young generation's threshold, so a busy engine step (thousands of short-lived task objects)
does not trigger several young collections each promoting its half-finished work into older generations.

It runs once per process, from ``engine.bootstrap.build``: the one path the command line, the worker and the
web app all take before they serve. ``defaults`` undoes it (``budgetflow bench memory --untuned`` measures the
process as it was before).
"""

from __future__ import annotations

import gc
import threading

# (young, middle, old). Young: a collection every 20,000 net new container objects instead of 700 (one engine
# step allocates several thousand; at 700 each step ran a few young collections). Middle and old as CPython's:
# an old (full) collection still needs 10 middle ones AND long-lived objects grown by a quarter (CPython 3.11+).
SERVER_THRESHOLDS = (20_000, 10, 10)
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
