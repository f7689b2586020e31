"""What a script may leave in its task data: values the state serializer can store, within size limits.

After every script the task data is walked once: each variable must be JSON-like (plus Decimal and
dates), at most ``max_size`` values, nested at most ``MAX_DATA_DEPTH`` deep, and all variables
together at most ``max_task_data_size``. Values that would only fail later, while the instance is
saved (outside the script, with no script to blame), are refused here with the variable's name.
"""

from __future__ import annotations

import math
import re
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from engine.workflow.scripts.errors import ScriptFailed, ScriptLimitExceeded
from engine.workflow.scripts.limits import SandboxLimits, checkpoint

# What task data may hold after a script (SpiffWorkflow serializer + our Decimal/date converters).
STORABLE_SCALARS = frozenset({str, int, float, bool, type(None), Decimal, date, datetime, timedelta, UUID})
# SpiffWorkflow's serializer and copy.deepcopy recurse in Python, a few frames per level, inside an
# engine call that is itself deep: far below Python's 1,000-frame limit, far above any document.
MAX_DATA_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")
_LOG10_2 = math.log10(2)


def is_storable_top_level(value: object) -> bool:
    """Top-level script variables that are not data (functions, sets, iterators...) are dropped."""
    return type(value) in STORABLE_SCALARS or type(value) in (dict, list, tuple)


def check_storable(data: dict[str, Any], limits: SandboxLimits) -> None:
    """Refuse task data that the serializer could not store, or that is too big to walk or keep."""
    total = 0
    for key, value in data.items():
        total += _weigh_variable(key, value, limits.max_size)
        if total > limits.max_task_data_size:
            raise ScriptLimitExceeded(
                f"the task data would hold more than {limits.max_task_data_size:,} values and characters "
                f"(reached at variable {key!r})",
                why="keep large documents out of task data; each step stores all of it",
            )


def _weigh_variable(key: str, value: object, limit: int) -> int:
    """Values plus characters of one variable; raises if it cannot be stored."""
    stack, seen, weight = [(value, 0)], 0, 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if not seen & 4095:
            checkpoint()
        if seen > limit:
            raise ScriptLimitExceeded(f"variable {key!r} is too large to store",
                                      why=f"it has more than {limit:,} values or refers to itself")
        kind = type(item)
        weight += 1
        if kind in STORABLE_SCALARS:
            weight += _check_scalar(key, item, kind)
            continue
        if depth >= MAX_DATA_DEPTH:
            raise ScriptLimitExceeded(f"variable {key!r} is nested more than {MAX_DATA_DEPTH} levels deep",
                                      why="the state serializer cannot store it")
        stack.extend((child, depth + 1) for child in _children(key, item, kind))
    return weight


def _children(key: str, item: Any, kind: type) -> Any:
    if kind is dict:
        bad = next((k for k in item if type(k) is not str), None)
        if bad is not None:
            raise ScriptFailed(f"variable {key!r} holds a dict with a {type(bad).__name__} key",
                               why="task data is JSON: dict keys must be strings")
        return item.values()
    if kind is list or kind is tuple:
        return item
    raise ScriptFailed(f"variable {key!r} holds a {kind.__name__} value",
                       why="task data may only hold JSON values, Decimal, date, datetime and timedelta")


def _check_scalar(key: str, item: Any, kind: type) -> int:
    """The characters a scalar adds; refuses ints and strings the serializer would choke on."""
    if kind is str:
        if not item.isascii() and _SURROGATE.search(item):
            raise ScriptFailed(f"variable {key!r} holds a string with a lone surrogate character",
                               why="it cannot be encoded as UTF-8 to be stored")
        return len(item)
    if kind is int and _too_many_digits(item):
        raise ScriptLimitExceeded(
            f"variable {key!r} holds an int of about {int(item.bit_length() * _LOG10_2):,} digits",
            why=f"the state is JSON and Python writes at most {sys.get_int_max_str_digits():,} digits of an int",
        )
    return 0


def _too_many_digits(value: int) -> bool:
    """Would ``str(value)`` fail on Python's int-to-str digit limit (the JSON serializer calls it)?"""
    limit = sys.get_int_max_str_digits()
    bits = value.bit_length()
    if not limit or bits * _LOG10_2 < limit - 1:
        return False
    try:
        return len(str(abs(value))) > limit  # near the limit: count exactly (a few thousand digits)
    except ValueError:
        return True
