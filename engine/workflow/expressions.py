"""Run-time half of the sandbox: the guards compiled code calls instead of bare operators.

The compiler (``script_engine.py``) rewrites ``a * b`` into ``_binop_('*', a, b)``, ``x.y`` into
``_getattr_(x, 'y')`` and so on; this module implements those names, the safe builtins and the
CPU/memory budget. C-level work cannot be interrupted from Python, so every operation that can
build a large value in one step checks the size of its result *before* computing it.
"""

from __future__ import annotations

import json
import math
import operator
import os
import re
import time as _time_module
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal
from time import perf_counter, thread_time
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

from engine.workflow.script_helpers import (
    BUSINESS_HELPERS,
    CLASS_ATTRS,
    INSTANCE_ATTRS,
    SCALAR_TYPES,
    Abort,
    ModuleProxy,
    SandboxLimits,
    ScriptTimeout,
    check_size,
    checkpoint,
    decimal_int_digits,
    large_allocation,
    refuse,
    too_large,
    weigh,
)

_SEQUENCES = (str, bytes, list, tuple)
_NUMBERS = frozenset({int, float, Decimal})
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
    ">=": operator.ge, "in": lambda a, b: a in b, "not in": lambda a, b: a not in b,
}
_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "*": operator.mul, "**": operator.pow, "<<": operator.lshift, "%": operator.mod,
}
_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
}
# Width and precision of at most three digits: a format spec cannot build a huge string.
_FORMAT_SPEC = re.compile(r"(.?[<>=^])?[-+ ]?z?#?0?\d{0,3}[,_]?(\.\d{1,3})?[bcdeEfFgGnosxX%]?")
_NO_DEFAULT = object()


class Guards:
    """The functions behind ``_binop_``, ``_getattr_``, ``str``, ``sorted``... for one set of limits."""

    def __init__(self, limits: SandboxLimits):
        self.max_size, self.max_bits = limits.max_size, limits.max_int_bits

    # ---- operators -------------------------------------------------------------------
    def _check_len(self, length: int, what: str) -> None:
        if length > self.max_size:
            too_large(f"{what} would build {length:,} elements", f"the limit is {self.max_size:,}")
        if length > 65_536:
            large_allocation()

    def _check_bits(self, bits: int, what: str) -> None:
        if bits > self.max_bits:
            too_large(f"{what} would build an integer of about {bits:,} bits", f"the limit is {self.max_bits:,}")

    def check_binop(self, op: str, a: Any, b: Any) -> None:
        int_args = isinstance(a, int) and isinstance(b, int)
        if op == "+" and isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
            self._check_len(len(a) + len(b), "'+'")
        elif op == "*" and int_args:
            self._check_bits(a.bit_length() + b.bit_length(), "'*'")
        elif op == "*" and isinstance(a, _SEQUENCES) and isinstance(b, int):
            self._check_len(len(a) * b, "'*'")
        elif op == "*" and isinstance(b, _SEQUENCES) and isinstance(a, int):
            self._check_len(len(b) * a, "'*'")
        elif op == "**" and int_args and b > 0 and abs(a) > 1:
            self._check_bits((a.bit_length() - 1) * b, "'**'")
        elif op == "<<" and int_args and a and b > 0:
            self._check_bits(a.bit_length() + b, "'<<'")
        elif op == "%" and isinstance(a, (str, bytes)):
            refuse("'%' formatting of strings is not allowed", "use an f-string")

    def binop(self, op: str, a: Any, b: Any) -> Any:
        """``a op b`` for the operators that can build a large value in one step (+ * ** << %)."""
        self.check_binop(op, a, b)
        return _BINOPS[op](a, b)

    def inplace(self, op: str, a: Any, b: Any) -> Any:
        """``x op= y`` on a plain name (RestrictedPython's ``_inplacevar_``); lists grow in place."""
        if op == "+=" and type(a) in _NUMBERS and type(b) in _NUMBERS:
            return a + b  # ``total += amount``, the common case: nothing to check
        if op not in _INPLACE:
            refuse(f"'{op}' is not allowed")
        if type(a) is list and op == "+=" and not isinstance(b, _SEQUENCES):
            b = list(b)  # list += any iterable (zip, generator...): size it first
        elif type(a) is dict and op == "|=" and type(b) is not dict:
            b = self.dict(b)  # dict |= pairs hashes the keys: check them first
        self.check_binop(op[:-1], a, b)
        return _INPLACE[op](a, b)

    def compare(self, a: Any, op: str, b: Any) -> Any:
        """``a op b`` where neither side is a literal: bound the C-level work of comparing containers.

        ``==`` and ordering walk both sides in step, so one bounded side bounds the work; ``in``
        walks the container (or hashes the needle, for dict and set).
        """
        if type(a) not in SCALAR_TYPES and type(b) not in SCALAR_TYPES:
            if op in ("in", "not in"):
                if not isinstance(b, (dict, set, frozenset, list, tuple, range)):
                    b = list(b)  # an iterator (reversed, zip, generator): it cannot be sized otherwise
                check_size(a if isinstance(b, (dict, set, frozenset)) else b, self.max_size, f"'{op}' operand")
            elif weigh(a, self.max_size) > self.max_size and weigh(b, self.max_size) > self.max_size:
                too_large(f"'{op}' of two values this large is not allowed",
                          f"each has more than {self.max_size:,} elements (or refers to itself)")
        return _COMPARE[op](a, b)

    def bounded(self, value: Any) -> Any:
        """Hash keys, chained comparison operands, sort keys: their cost is their size."""
        if type(value) not in SCALAR_TYPES:
            check_size(value, self.max_size, "value")
        return value

    def getitem(self, obj: Any, key: Any) -> Any:
        return obj[self.bounded(key)]

    def write(self, obj: Any) -> Any:
        """Target of ``x[k] = v`` / ``x.a = v``: only task-data containers may change."""
        if type(obj) is dict or type(obj) is list:
            return obj
        refuse(f"changing {_type_name(obj)} is not allowed", "only dict and list values can be changed")

    def format_value(self, value: Any, conversion: int, spec: str) -> str:
        """An f-string field: size-checked value, bounded width and precision."""
        self.bounded(value)
        if conversion != -1:
            value = {ord("r"): repr, ord("s"): str, ord("a"): ascii}[conversion](value)
        if not spec:
            return format(value)
        if isinstance(value, (date, time)):  # a strftime pattern
            if len(spec) > 64:
                refuse(f"format spec {spec[:20]!r}... is too long")
        elif not _FORMAT_SPEC.fullmatch(spec):
            refuse(f"format spec {spec!r} is not allowed", "use [fill]align, sign, width and precision up to 999")
        elif isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) > 1000:
            refuse("formatting a Decimal with more than 1000 digits is not allowed")
        return format(value, spec)

    # ---- attributes ------------------------------------------------------------------
    def getattr(self, obj: Any, name: str) -> Any:
        if type(obj) is ModuleProxy:
            return obj.member(name)
        allowed = CLASS_ATTRS.get(obj, {}) if type(obj) is type else INSTANCE_ATTRS.get(type(obj), {})
        if name not in allowed:
            refuse(f"attribute {name!r} of {_type_name(obj)} is not allowed",
                   "only the attributes listed in docs/scripts.md can be read")
        value = getattr(obj, name)
        wrapper = allowed[name]
        return value if wrapper is None else getattr(self, f"_method_{wrapper}")(obj, value)

    def _method_args(self, _obj: Any, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            return method(*[self.bounded(a) for a in args])
        return call

    def _method_search(self, items: Any, method: Callable[..., Any]) -> Callable[..., Any]:
        """list/tuple count, index, remove compare the needle with every item: bound the items."""
        def call(needle: Any, *rest: Any) -> Any:
            if type(needle) not in SCALAR_TYPES:
                check_size(items, self.max_size, "searched list")
            return method(needle, *rest)
        return call

    def _method_list(self, _obj: Any, method: Callable[..., Any]) -> Callable[..., Any]:
        return lambda: list(method())

    def _method_key(self, _obj: Any, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(key: Any, *rest: Any) -> Any:
            return method(self.bounded(key), *rest)
        return call

    def _method_join(self, sep: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def join(parts: Iterable[Any]) -> str:
            items = list(parts)
            self._check_len(len(sep) * len(items) + sum(len(p) for p in items if type(p) is str), "str.join")
            return method(items)
        return join

    def _method_replace(self, text: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def replace(old: str, new: str, count: int = -1) -> str:
            hits = text.count(old) if count < 0 else min(count, text.count(old))
            self._check_len(len(text) + hits * (len(new) - len(old)), "str.replace")
            return method(old, new, count)
        return replace

    def _method_extend(self, target: list[Any], method: Callable[..., Any]) -> Callable[..., Any]:
        def extend(items: Iterable[Any]) -> None:
            new = list(items)
            self._check_len(len(target) + len(new), "list.extend")
            method(new)
        return extend

    def _method_sort(self, target: list[Any], method: Callable[..., Any]) -> Callable[..., Any]:
        def sort(*, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> None:
            check_size(target, self.max_size, "sorted list")
            method(key=self._key_fn(key), reverse=reverse)
        return sort

    def _method_update(self, target: dict[Any, Any], method: Callable[..., Any]) -> Callable[..., Any]:
        def update(*args: Any, **kwargs: Any) -> None:
            method(self.dict(*args, **kwargs))
        return update

    def _key_fn(self, key: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
        return None if key is None else (lambda item: self.bounded(key(item)))

    # ---- builtins with a size check ---------------------------------------------------
    def _check_decimal_int(self, value: Any) -> None:
        if isinstance(value, Decimal) and decimal_int_digits(value) * 10 // 3 > self.max_bits:
            too_large("converting a Decimal this large to int is not allowed", f"the limit is {self.max_bits:,} bits")

    def decimal(self, value: Any = "0") -> Decimal:
        """Decimal(x) without a context argument; a coefficient of 1,000 digits is beyond any amount,
        and multiplying two of a million digits takes libmpdec ~0.1 s of uninterruptible C."""
        digits = len(value) if isinstance(value, str) else len(value[1]) if isinstance(value, tuple) else 0
        if digits > 1000:
            too_large(f"Decimal() of {digits:,} digits is not allowed", "the limit is 1,000")
        return Decimal(value)

    def int(self, value: Any = 0, *base: Any) -> int:
        self._check_decimal_int(value)
        if isinstance(value, str) and len(value) > 5000:
            too_large("int() of a string longer than 5000 characters is not allowed", "it is not an amount")
        return int(value, *base)

    def round(self, value: Any, ndigits: Any = None) -> Any:
        if ndigits is None:
            self._check_decimal_int(value)
            return round(value)
        if isinstance(value, int) and isinstance(ndigits, int) and -ndigits > value.bit_length() // 3 + 2:
            return 0  # |value| < 10**-ndigits / 2; Python would first compute 10**-ndigits (seconds)
        return round(value, ndigits)

    def to_int(self, fn: Callable[[Any], int]) -> Callable[[Any], int]:
        """math.floor/ceil/trunc return an int: the same Decimal check as int()."""
        def call(value: Any) -> int:
            self._check_decimal_int(value)
            return fn(value)
        return call

    def str(self, *args: Any) -> str:
        if len(args) > 1:
            raise TypeError("str() takes at most one argument in diagram code")
        return str(self.bounded(args[0])) if args else ""

    def repr(self, value: Any) -> str:
        return repr(self.bounded(value))

    def sum(self, items: Iterable[Any], /, start: Any = 0) -> Any:
        if isinstance(start, bool) or not isinstance(start, (int, float, Decimal)):
            raise TypeError("sum() start must be a number")  # sum of lists is quadratic
        return sum(items, start)

    def sorted(self, items: Iterable[Any], /, *, key: Any = None, reverse: bool = False) -> list[Any]:
        values = list(items)
        check_size(values, self.max_size, "sorted() argument")
        return sorted(values, key=self._key_fn(key), reverse=reverse)

    def _extreme(self, fn: Callable[..., Any], args: tuple[Any, ...], key: Any, default: Any) -> Any:
        values = list(args[0]) if len(args) == 1 else list(args)
        check_size(values, self.max_size, f"{fn.__name__}() argument")
        extra = {} if default is _NO_DEFAULT else {"default": default}
        return fn(values, key=self._key_fn(key), **extra)

    def min(self, *args: Any, key: Any = None, default: Any = _NO_DEFAULT) -> Any:
        return self._extreme(min, args, key, default)

    def max(self, *args: Any, key: Any = None, default: Any = _NO_DEFAULT) -> Any:
        return self._extreme(max, args, key, default)

    def dict(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        if len(args) > 1:
            raise TypeError(f"dict expected at most 1 argument, got {len(args)}")
        source = args[0] if args else {}
        if type(source) is dict:
            result = dict(source)  # its keys were checked when they went in
        else:
            result = {}
            for count, (key, value) in enumerate(source):
                if not count & 4095:
                    checkpoint()
                result[self.bounded(key)] = value
        result.update(kwargs)
        return result

    def set(self, items: Iterable[Any] = ()) -> set[Any]:
        result = set()
        for count, item in enumerate(items):
            if not count & 4095:
                checkpoint()
            result.add(self.bounded(item))
        return result

    def range(self, *args: Any) -> range:
        result = range(*args)
        try:
            length = len(result)
        except OverflowError:
            length = self.max_size + 1
        self._check_len(length, "range()")
        return result

    def json_dumps(self, value: Any, *, sort_keys: bool = False, indent: Any = None, ensure_ascii: bool = True) -> str:
        check_size(value, self.max_size, "json.dumps() argument")
        if indent is not None and not (type(indent) is int and 0 <= indent <= 8):
            refuse("json.dumps() indent must be an int from 0 to 8")
        return json.dumps(value, sort_keys=bool(sort_keys), indent=indent, ensure_ascii=bool(ensure_ascii),
                          default=_json_default)

    def json_loads(self, text: Any) -> Any:
        if not isinstance(text, str):
            raise TypeError("json.loads() takes a str")
        return json.loads(text, parse_int=self.int)  # long digit strings: the same check as int()


def _type_name(obj: Any) -> str:
    return f"class {obj.__name__}" if isinstance(obj, type) else type(obj).__name__


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, time, timedelta)):
        return str(value) if isinstance(value, timedelta) else value.isoformat()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _guarded_type(real: type, factory: Callable[..., Any]) -> type:
    """A stand-in for ``int``/``str``/``dict``/``set``/``Decimal``: calls go through the guard, while
    ``isinstance(x, dict)`` keeps working. Scripts cannot read its attributes (not allow-listed)."""
    meta = type(f"{real.__name__}_meta", (type,), {
        "__instancecheck__": lambda cls, obj: isinstance(obj, real),
        "__subclasscheck__": lambda cls, sub: isinstance(sub, type) and issubclass(sub, real),
        "__call__": lambda cls, *args, **kwargs: factory(*args, **kwargs),
        "__repr__": lambda cls: f"<class '{real.__name__}'>",
    })
    return meta(real.__name__, (), {})


_PLAIN_BUILTINS: dict[str, Any] = {
    "None": None, "True": True, "False": False,
    "abs": abs, "all": all, "any": any, "bool": bool, "chr": chr, "divmod": divmod, "enumerate": enumerate,
    "float": float, "isinstance": isinstance, "len": len, "list": list, "ord": ord, "reversed": reversed,
    "tuple": tuple, "zip": zip,
    # Exception subclasses only: BaseException would let ``except`` catch the sandbox's own signals.
    **{e.__name__: e for e in (Exception, ArithmeticError, AssertionError, IndexError, KeyError, LookupError, NameError,
                               RecursionError, TypeError, ValueError, ZeroDivisionError)},
}
_PLAIN_GLOBALS: dict[str, Any] = {
    "date": date, "datetime": datetime, "timedelta": timedelta, "timezone": timezone,
    "UTC": UTC, "ROUND_HALF_UP": ROUND_HALF_UP, "ROUND_HALF_EVEN": ROUND_HALF_EVEN, "ROUND_DOWN": ROUND_DOWN,
    "ROUND_UP": ROUND_UP, **BUSINESS_HELPERS,
}
_MATH_PLAIN = ("fabs", "sqrt", "isclose", "isfinite", "isinf", "isnan", "log", "log10", "log2", "exp",
               "fsum", "copysign", "fmod", "pi", "e", "inf", "nan")


def _internal_import(name: str, *args: Any, **kwargs: Any) -> Any:
    """``__import__`` for C code only: ``date.today()`` and ``strftime`` import ``time`` through
    the caller's builtins. Diagram code cannot reach this (``import`` and ``_`` names are refused)."""
    if name != "time":
        raise ImportError(f"import of {name!r} is not allowed in diagram code")
    return _time_module


def public_globals(guards: Guards) -> dict[str, Any]:
    """Names diagram code can use: data types, ``math``/``json`` proxies, business helpers."""
    math_members = {name: getattr(math, name) for name in _MATH_PLAIN}
    math_members.update({name: guards.to_int(getattr(math, name)) for name in ("floor", "ceil", "trunc")})
    json_members = {"dumps": guards.json_dumps, "loads": guards.json_loads}
    return {**_PLAIN_GLOBALS, "Decimal": _guarded_type(Decimal, guards.decimal),
            "math": ModuleProxy("math", math_members), "json": ModuleProxy("json", json_members)}


def reserved_globals(guards: Guards) -> dict[str, Any]:
    """Names only compiled code uses (users cannot write a name starting with ``_``)."""
    builtins = dict(_PLAIN_BUILTINS, __import__=_internal_import)
    builtins.update(
        int=_guarded_type(int, guards.int), str=_guarded_type(str, guards.str),
        dict=_guarded_type(dict, guards.dict), set=_guarded_type(set, guards.set),
        repr=guards.repr, round=guards.round, sum=guards.sum, sorted=guards.sorted, min=guards.min,
        max=guards.max, range=guards.range,
    )
    return {
        "__builtins__": builtins, "_getattr_": guards.getattr, "_getitem_": guards.getitem,
        "_write_": guards.write, "_getiter_": iter, "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence, "_inplacevar_": guards.inplace,
        "_apply_": lambda fn, *args, **kwargs: fn(*args, **kwargs),
        "_binop_": guards.binop, "_compare_": guards.compare, "_bounded_": guards.bounded,
        "_format_": guards.format_value,
    }


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
