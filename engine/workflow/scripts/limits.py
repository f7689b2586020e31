"""Limits of the diagram-code sandbox: what one evaluation may cost and what it may leave behind.

``SandboxLimits`` holds the configured limits; ``Budget`` enforces CPU time and memory while code
runs; the size checks (``weigh``, ``check_size``, ``check_hash_key``) bound the C-level work of a
single operation (``storable.py`` checks the task data a script leaves). Nothing here does
I/O except reading this process's RSS from /proc.
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

from engine.workflow.scripts.errors import Abort, ScriptTimeout, too_large

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
    # What one step may leave in its task data, all variables together (same units as max_size):
    # each variable under max_size is not enough, seventy of them made 64 MB of state.
    max_task_data_size: int = 2_000_000


# Values whose comparison, hashing and formatting cost is bounded by their own size.
SCALAR_TYPES = frozenset({str, int, float, bool, type(None), Decimal, date, datetime, time, timedelta, UUID})
CONTAINER_TYPES = (list, tuple, dict, set, frozenset)


def _scalar_weight(item: Any, kind: type) -> int:
    if kind is str or kind is bytes:
        return len(item)
    if kind is int:
        return item.bit_length() // 64
    if kind is Decimal:
        return len(str(item))  # a Decimal built from a long string prints long
    return 0


def weigh(value: object, budget: int) -> int:
    """Size of ``value`` as ``==``, ``hash`` or ``repr`` would visit it, stopping once past ``budget``.

    Shared sub-objects are counted every time they are reached, because that is what the C
    code does: ``a = [a, a]`` forty times is 80 lines of script but 2**40 steps of ``==``.
    Self-references therefore also run into the budget instead of looping.
    """
    # Anything a script built can be in there; each item is dispatched on its exact type.
    stack: list[Any] = [value]
    total, steps = 0, 0
    while stack:
        item = stack.pop()
        kind = type(item)
        steps += 1
        if not steps & 4095:
            checkpoint()
        if kind is dict:
            total += 1 + 2 * len(item)
            if total <= budget:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif kind in CONTAINER_TYPES or isinstance(item, BaseException):
            members = item.args if isinstance(item, BaseException) else item
            total += 1 + len(members)
            if total <= budget:
                stack.extend(members)
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


_KEY_INT_BITS = 64
_KEY_WHY = ("Python hashes numbers modulo 2**61-1, so larger or finer numbers can be chosen to collide and make "
            "one set or dict operation quadratic; use a str key")


def _collision_safe_decimal(value: Decimal) -> bool:
    """At most 19 digits, at most 28 decimal places: a handful of such values share any one hash."""
    if not value.is_finite():
        return value.is_qnan()  # a quiet NaN hashes by identity; a signalling one cannot be hashed
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -28 and value.adjusted() < 19 and value.adjusted() - exponent < 19


def check_hash_key(value: object) -> None:
    """Refuse a dict key or set member whose hash an attacker can make collide with many others.

    Strings hash with a per-process secret, but ints, Decimals (and tuples of them) hash by value
    modulo 2**61-1: ``{k * (2**61 - 1) for k in range(20000)}`` all hash to 0, and every later ``|``,
    ``==`` or copy of that set is one C call doing 10**8 comparisons. Within 64 bits (19 digits
    for a Decimal) at most a few dozen numbers share a hash, so such keys stay cheap.
    """
    stack: list[Any] = [value]
    steps = 0
    while stack:
        item = stack.pop()
        steps += 1
        if not steps & 4095:
            checkpoint()
        kind = type(item)
        if kind is tuple:
            stack.extend(item)
        elif kind is int and item.bit_length() > _KEY_INT_BITS:
            too_large(f"an int of {item.bit_length():,} bits as a dict key or set member is not allowed",
                      _KEY_WHY)
        elif kind is Decimal and not _collision_safe_decimal(item):
            too_large("a Decimal with more than 19 digits or 28 decimal places as a dict key or set member "
                      "is not allowed", _KEY_WHY)


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
