"""Run-time half of the sandbox: the guards compiled code calls instead of bare operators.

The compiler (``sandbox.py`` with ``rewriter.py``) rewrites ``a * b`` into
``_binop_('*', a, b)``, ``x.y`` into ``_getattr_(x, 'y')`` and so on; this module implements those
names and the size-checked builtins behind them. C-level work cannot be interrupted from Python,
so every operation that can build a large value in one step checks the size of its result
*before* computing it. The names are handed to code by ``namespace.py``; the CPU/memory
budget lives in ``limits.py``.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from engine.workflow.scripts.errors import refuse, too_large
from engine.workflow.scripts.limits import (
    SCALAR_TYPES,
    check_hash_key,
    check_size,
    checkpoint,
    decimal_int_digits,
    large_allocation,
    weigh,
)
from engine.workflow.scripts.policy import CLASS_ATTRS, INSTANCE_ATTRS, ModuleProxy
from engine.workflow.scripts.text_guards import TextGuards

_SEQUENCES = (str, bytes, list, tuple)
_HASHED = (set, frozenset, dict)
_NUMBERS = frozenset({int, float, Decimal})
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
    ">=": operator.ge, "in": lambda a, b: a in b, "not in": lambda a, b: a not in b,
}
_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "*": operator.mul, "**": operator.pow, "<<": operator.lshift, "%": operator.mod,
    "|": operator.or_, "^": operator.xor,
}
_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
}
_NO_DEFAULT = object()


class Guards(TextGuards):
    """The functions behind ``_binop_``, ``_getattr_``, ``str``, ``sorted``... for one set of limits
    (the text-writing ones are inherited from ``TextGuards``).

    A guard that stands in for a builtin is named after it with a trailing underscore (``int_`` for
    ``int``), as PEP 8 advises, so the builtin's own name still means the type inside this class.
    """

    # ---- operators -------------------------------------------------------------------
    def _check_bits(self, bits: int, what: str) -> None:
        if bits > self.max_bits:
            too_large(f"{what} would build an integer of about {bits:,} bits", f"the limit is {self.max_bits:,}")

    def check_binop(self, op: str, a: Any, b: Any) -> None:
        check = _BINOP_CHECKS.get(op)
        if check is not None:
            check(self, a, b)

    def _check_add(self, a: Any, b: Any) -> None:
        if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
            self._check_len(len(a) + len(b), "'+'")

    def _check_mul(self, a: Any, b: Any) -> None:
        if isinstance(a, int) and isinstance(b, int):
            self._check_bits(a.bit_length() + b.bit_length(), "'*'")
        elif isinstance(a, _SEQUENCES) and isinstance(b, int):
            self._check_len(len(a) * b, "'*'")
        elif isinstance(b, _SEQUENCES) and isinstance(a, int):
            self._check_len(len(b) * a, "'*'")

    def _check_pow(self, a: Any, b: Any) -> None:
        if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
            self._check_bits((a.bit_length() - 1) * b, "'**'")

    def _check_shift(self, a: Any, b: Any) -> None:
        if isinstance(a, int) and isinstance(b, int) and a and b > 0:
            self._check_bits(a.bit_length() + b, "'<<'")

    def _check_mod(self, a: Any, _b: Any) -> None:
        if isinstance(a, (str, bytes)):
            refuse("'%' formatting of strings is not allowed", "use an f-string")

    def _check_union(self, a: Any, b: Any) -> None:
        """set | set, set ^ set, dict | dict: the result can hold both operands (& and - only shrink)."""
        if isinstance(a, _HASHED) and isinstance(b, _HASHED):
            self._check_len(len(a) + len(b), "a set or dict union")

    def binop(self, op: str, a: Any, b: Any) -> Any:
        """``a op b`` for the operators that can build a large value in one step (+ * ** << % | ^)."""
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
            b = self.dict_(b)  # dict |= pairs hashes the keys: check them first
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

    def key(self, value: Any) -> Any:
        """A value about to be stored as a dict key or set member: bounded, and not chosen to collide."""
        if type(value) is not str:
            self.bounded(value)
            check_hash_key(value)
        return value

    def isinstance_(self, value: Any, classinfo: Any) -> bool:
        """Python walks nested tuples of types recursively: ``(t, t)`` forty times deep is 2**40 checks."""
        if type(classinfo) is tuple and any(type(item) is tuple for item in classinfo):
            refuse("isinstance() with nested tuples of types is not allowed", "list the types in one flat tuple")
        return isinstance(value, classinfo)

    def getitem(self, obj: Any, key: Any) -> Any:
        return obj[self.bounded(key)]

    def write(self, obj: Any) -> Any:
        """Target of ``x[k] = v`` / ``x.a = v``: only task-data containers may change."""
        if type(obj) is dict or type(obj) is list:
            return obj
        refuse(f"changing {_type_name(obj)} is not allowed", "only dict and list values can be changed")

    # ---- attributes ------------------------------------------------------------------
    def getattr_(self, obj: Any, name: str) -> Any:
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
        """set.union(...) and friends hash every member of their arguments: check them as set members."""
        def call(*args: Any) -> Any:
            return method(*[a if type(a) in _HASHED else self.set_(a) for a in args])
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
            return method(self.key(key), *rest)
        return call

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
            method(self.dict_(*args, **kwargs))
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

    def int_(self, value: Any = 0, *base: Any) -> int:
        self._check_decimal_int(value)
        if isinstance(value, str) and len(value) > 5000:
            too_large("int() of a string longer than 5000 characters is not allowed", "it is not an amount")
        return int(value, *base)

    def round_(self, value: Any, ndigits: Any = None) -> Any:
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

    def sum_(self, items: Iterable[Any], /, start: Any = 0) -> Any:
        if isinstance(start, bool) or not isinstance(start, (int, float, Decimal)):
            raise TypeError("sum() start must be a number")  # sum of lists is quadratic
        return sum(items, start)

    def sorted_(self, items: Iterable[Any], /, *, key: Any = None, reverse: bool = False) -> list[Any]:
        values = list(items)
        check_size(values, self.max_size, "sorted() argument")
        return sorted(values, key=self._key_fn(key), reverse=reverse)

    def _extreme(self, fn: Callable[..., Any], args: tuple[Any, ...], key: Any, default: Any) -> Any:
        values = list(args[0]) if len(args) == 1 else list(args)
        check_size(values, self.max_size, f"{fn.__name__}() argument")
        extra = {} if default is _NO_DEFAULT else {"default": default}
        return fn(values, key=self._key_fn(key), **extra)

    def min_(self, *args: Any, key: Any = None, default: Any = _NO_DEFAULT) -> Any:
        return self._extreme(min, args, key, default)

    def max_(self, *args: Any, key: Any = None, default: Any = _NO_DEFAULT) -> Any:
        return self._extreme(max, args, key, default)

    def dict_(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
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
                result[self.key(key)] = value
        result.update(kwargs)
        return result

    def set_(self, items: Iterable[Any] = ()) -> set[Any]:
        result = set()
        for count, item in enumerate(items):
            if not count & 4095:
                checkpoint()
            result.add(self.key(item))
        return result

    def range_(self, *args: Any) -> range:
        result = range(*args)
        try:
            length = len(result)
        except OverflowError:
            length = self.max_size + 1
        # Each member is a new int: range(2**16000, 2**16000 + 10**5) is 200 MB for list() in one call.
        word_count = 1 + max(abs(result.start), abs(result.stop)).bit_length() // 64
        self._check_len(length * word_count, "range()")
        return result

    def zip_(self, *iterables: Any, strict: bool = False) -> Iterator[tuple[Any, ...]]:
        """zip makes one tuple of ``len(iterables)`` per step in C: ``list(zip(*[l] * 10**6))`` asks for
        10**12 elements in one call. Bounded up front when the inputs are sized, metered as it runs."""
        sized = [len(it) for it in iterables if isinstance(it, (str, list, tuple, dict, set, frozenset, range))]
        if sized:
            self._check_len(min(sized) * len(iterables), "zip()")
        return _metered(zip(*iterables, strict=strict), len(iterables))

    def enumerate_(self, iterable: Any, start: Any = 0) -> Iterator[tuple[Any, Any]]:
        if isinstance(start, int) and start.bit_length() > 64:
            too_large("enumerate() from a start beyond 64 bits is not allowed", "each index would be a huge int")
        return _metered(enumerate(iterable, start), 3)

    def json_loads(self, text: Any) -> Any:
        if not isinstance(text, str):
            raise TypeError("json.loads() takes a str")
        return json.loads(text, parse_int=self.int_)  # long digit strings: the same check as int()


def _metered(items: Iterator[Any], width: int) -> Iterator[Any]:
    """Pass ``items`` through, checking time and memory every 65,536 elements made: ``list()`` of a zip
    or enumerate then runs its C loop through this generator, so the budget sees it grow."""
    made = next_check = 0
    for item in items:
        made += width
        if made >= next_check:
            large_allocation()
            checkpoint()
            next_check = made + 65_536
        yield item


def _type_name(obj: Any) -> str:
    return f"class {obj.__name__}" if isinstance(obj, type) else type(obj).__name__


_BINOP_CHECKS: dict[str, Callable[[Guards, Any, Any], None]] = {
    "+": Guards._check_add, "*": Guards._check_mul, "**": Guards._check_pow, "<<": Guards._check_shift,
    "%": Guards._check_mod, "|": Guards._check_union, "^": Guards._check_union,
}
