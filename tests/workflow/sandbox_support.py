"""Shared by the sandbox tests: tight limits so runaway code is stopped fast, and typical task data."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from engine.workflow.scripts.limits import SandboxLimits

LIMITS = SandboxLimits(expression_seconds=0.05, script_seconds=0.25, max_memory_bytes=64 * 2**20)
SLACK = 0.5  # seconds of CPU the guards may overshoot by (a size walk, the check interval)
# The limits are CPU seconds of whoever evaluates. On a busy shared machine a script gets less than a
# core, so wall time may run longer; the evaluator pool's hard wall-clock cap is 4 x the limit + 1 s
# (+ its kill grace), and in-process evaluation has no wall cap: only this sanity bound.
IN_PROCESS_WALL_SANITY = 10.0


@dataclass(frozen=True)
class Stopped:
    error: Any
    wall: float
    cpu: float  # CPU time of the calling thread: all of an in-process evaluation


def stopped(run: Callable[[], Any], error: type[Exception]) -> Stopped:
    """Run ``run``, which must raise ``error``; measure its wall time and this thread's CPU time."""
    wall, cpu = time.perf_counter(), time.thread_time()
    with pytest.raises(error) as caught:
        run()
    return Stopped(caught.value, time.perf_counter() - wall, time.thread_time() - cpu)


def task_data() -> dict[str, Any]:
    return {"x": 1, "amount": 6000, "subject": "travel", "text": "hello", "approvers": ["li.si"],
            "lines": [{"amount": "1200.50"}, {"amount": "300"}], "submitted": date(2024, 1, 31)}
