"""Limits of the diagram-code sandbox: what one evaluation may cost and what it may leave behind.

``SandboxLimits`` holds the configured limits; ``Budget`` enforces CPU time and memory while code
runs; the size checks (``weigh``, ``check_size``, ``check_storable``) bound the C-level work of a
single operation and the task data a script leaves. Nothing here does I/O except reading this
process's RSS from /proc.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from time import perf_counter, thread_time
from typing import Any
from uuid import UUID

from engine.workflow.sandbox_errors import Abort, ScriptFailed, ScriptLimitExceeded, ScriptTimeout, too_large

# ---------------------------------------------------------------- limits

_RUNNING = threading.local()  # the Budget of the evaluation running on this thread (see Budget below)


def swap_budget(budget: object) -> object:
    """Make ``budget`` the running budget of this thread; returns the one to restore afterwards."""
    previous = getattr(_RUNNING, "budget", None)
    _RUNNING.budget = budget
    return previous


def checkpoint() -> None:
    """Long loops inside the guards honour the running evaluation's time budget through this."""
    budget = getattr(_RUNNING, "budget", None)
    if budget is not None:
        budget.tick()


def large_allocation() -> None:
    """Called before a guarded operation builds a big value: code without loops has no ``_tick_``,
    but a long expression of allowed ``[0] * 10**6`` terms must still meet the memory limit."""
    budget = getattr(_RUNNING, "budget", None)
    if budget is not None:
        budget.before_allocation()


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """Per-evaluation limits. Times are CPU seconds of the evaluating thread."""

    expression_seconds: float = 0.1
    script_seconds: float = 1.0
    max_size: int = 1_000_000  # elements or characters one operation may produce, or one check may visit
    max_int_bits: int = 16_384  # ~4,900 decimal digits: far beyond any amount, far below a CPU bomb
    max_memory_bytes: int = 256 * 2**20  # growth of process RSS during one script (Linux only)


# Values whose comparison, hashing and formatting cost is bounded by their own size.
SCALAR_TYPES = frozenset({str, int, float, bool, type(None), Decimal, date, datetime, time, timedelta, UUID})
CONTAINER_TYPES = (list, tuple, dict, set, frozenset)
# What task data may hold after a script (SpiffWorkflow serializer + our Decimal/date converters).
STORABLE_SCALARS = frozenset({str, int, float, bool, type(None), Decimal, date, datetime, timedelta, UUID})


def _scalar_weight(item: object, kind: type) -> int:
    if kind is str or kind is bytes:
        return len(item)  # type: ignore[arg-type]
    if kind is int:
        return item.bit_length() // 64  # type: ignore[attr-defined]
    if kind is Decimal:
        return len(str(item))  # a Decimal built from a long string prints long
    return 0


def weigh(value: object, budget: int) -> int:
    """Size of ``value`` as ``==``, ``hash`` or ``repr`` would visit it, stopping once past ``budget``.

    Shared sub-objects are counted every time they are reached, because that is what the C
    code does: ``a = [a, a]`` forty times is 80 lines of script but 2**40 steps of ``==``.
    Self-references therefore also run into the budget instead of looping.
    """
    total, stack, steps = 0, [value], 0
    while stack:
        item = stack.pop()
        kind = type(item)
        steps += 1
        if not steps & 4095:
            checkpoint()
        if kind is dict:
            total += 1 + 2 * len(item)  # type: ignore[arg-type]
            if total <= budget:
                stack.extend(item.keys())  # type: ignore[attr-defined]
                stack.extend(item.values())  # type: ignore[attr-defined]
        elif kind in CONTAINER_TYPES or isinstance(item, BaseException):
            members = item.args if isinstance(item, BaseException) else item
            total += 1 + len(members)  # type: ignore[arg-type]
            if total <= budget:
                stack.extend(members)  # type: ignore[arg-type]
        else:
            total += 1 + _scalar_weight(item, kind)
        if total > budget:
            return total
    return total


def check_size(value: object, limit: int, what: str) -> None:
    if type(value) not in SCALAR_TYPES and weigh(value, limit) > limit:
        too_large(what, f"it has more than {limit:,} elements (or refers to itself)")


def decimal_int_digits(value: Decimal) -> int:
    """How many digits ``int(value)`` would have, without computing it."""
    return max(value.adjusted() + 1, 1) if value.is_finite() else 0


def check_storable(data: dict[str, Any], limit: int) -> None:
    """Refuse task data that the serializer could not store, or that is too big to walk."""
    for key, value in data.items():
        stack, seen = [value], 0
        while stack:
            item = stack.pop()
            seen += 1
            if not seen & 4095:
                checkpoint()
            if seen > limit:
                raise ScriptLimitExceeded(
                    f"variable {key!r} is too large to store",
                    why=f"it has more than {limit:,} values or refers to itself",
                )
            kind = type(item)
            if kind in STORABLE_SCALARS:
                continue
            if kind is dict:
                bad = next((k for k in item if type(k) is not str), None)
                if bad is not None:
                    raise ScriptFailed(f"variable {key!r} holds a dict with a {type(bad).__name__} key",
                                       why="task data is JSON: dict keys must be strings")
                stack.extend(item.values())
            elif kind is list or kind is tuple:
                stack.extend(item)
            else:
                raise ScriptFailed(f"variable {key!r} holds a {kind.__name__} value",
                                   why="task data may only hold JSON values, Decimal, date, datetime and timedelta")


def is_storable_top_level(value: object) -> bool:
    """Top-level script variables that are not data (functions, sets, iterators...) are dropped."""
    return type(value) in STORABLE_SCALARS or type(value) in (dict, list, tuple)


# ---------------------------------------------------------------- CPU and memory budget

_MEMORY_INTERVAL = 0.002  # seconds between RSS samples: at memory bandwidth that is tens of MB at most
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_statm: dict[int, int] = {}  # pid -> fd of /proc/self/statm (re-opened after fork)


def current_rss() -> int | None:
    """Resident set size of this process in bytes, or None where /proc is unavailable."""
    pid = os.getpid()
    try:
        if pid not in _statm:
            _statm.clear()
            _statm[pid] = os.open("/proc/self/statm", os.O_RDONLY)
        return int(os.pread(_statm[pid], 64, 0).split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


class Budget:
    """CPU-time and memory budget of one evaluation, checked by ``_tick_()``.

    The compiler puts ``_tick_()`` at the top of every loop body, function body, lambda and
    comprehension, so any unbounded run passes through it; long loops inside the guards call it
    through ``checkpoint()``. The fast path is one ``perf_counter()`` comparison; only once the
    *wall* deadline passes is the thread's CPU time read (it costs ~1 us), and the deadline moves
    on if the thread was merely waiting for the GIL. Code without loops (most expressions) gets
    a cheap wall-clock budget: only the guards' own loops can consult it.
    """

    __slots__ = ("kind", "seconds", "max_memory", "cpu_start", "deadline", "next_memory", "next_check", "rss_start")

    def __init__(self, kind: str, seconds: float, max_memory: int, *, precise: bool = True):
        now = perf_counter()
        self.kind, self.seconds, self.max_memory = kind, seconds, max_memory
        self.cpu_start = thread_time() if precise else None
        self.deadline, self.next_memory = now + seconds, now + _MEMORY_INTERVAL
        self.next_check = min(self.deadline, self.next_memory)
        self.rss_start = current_rss() if precise else None

    def before_allocation(self) -> None:
        if self.rss_start is None:  # code without loops: measure from its first big value on
            self.rss_start = current_rss()
            self.next_memory = perf_counter()
        self._check()

    def tick(self) -> bool:
        if perf_counter() >= self.next_check:
            self._check()
        return True  # so it can sit in a comprehension's ``if`` and before a lambda body

    def _check(self) -> None:
        now = perf_counter()
        if now >= self.next_memory and self.rss_start is not None:
            rss = current_rss()
            if rss is not None and rss - self.rss_start > self.max_memory:
                too_large(f"the {self.kind} used {(rss - self.rss_start) // 2**20:,} MiB of memory",
                          f"the limit is {self.max_memory // 2**20:,} MiB")
            self.next_memory = now + _MEMORY_INTERVAL
        if now >= self.deadline:
            used = self.seconds if self.cpu_start is None else thread_time() - self.cpu_start
            if used >= self.seconds:
                raise Abort(ScriptTimeout(f"the {self.kind} ran longer than its {self.seconds:g} s limit",
                                          why="stopped; look for an endless loop or endless recursion"))
            self.deadline = now + (self.seconds - used)
        self.next_check = min(self.deadline, self.next_memory)
