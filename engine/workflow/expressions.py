"""Run-time half of the sandbox: the guards compiled code calls instead of bare operators.

The compiler (``sandbox.py`` with ``sandbox_rewriter.py``) rewrites ``a * b`` into
``_binop_('*', a, b)``, ``x.y`` into ``_getattr_(x, 'y')`` and so on; this module implements those
names and the size-checked builtins behind them. C-level work cannot be interrupted from Python,
so every operation that can build a large value in one step checks the size of its result
*before* computing it. The names are handed to code by ``sandbox_builtins.py``; the CPU/memory
budget lives in ``sandbox_limits.py``.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Iterable
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from engine.workflow.sandbox_errors import refuse, too_large
from engine.workflow.sandbox_limits import (
    SCALAR_TYPES,
    SandboxLimits,
    check_size,
    checkpoint,
    decimal_int_digits,
    large_allocation,
    weigh,
)
from engine.workflow.sandbox_policy import CLASS_ATTRS, INSTANCE_ATTRS, ModuleProxy

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
