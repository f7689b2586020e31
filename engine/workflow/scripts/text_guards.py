"""Guards for everything that writes text: f-strings, ``str``/``repr``, ``json.dumps``, ``join``,
``replace``, case mapping and ``strftime``.

Each of them is one C call that can write far more characters than its input holds: ``repr``
escapes a character into as many as ten, ``json.dumps`` with ``ensure_ascii`` into twelve,
``'ﬃ'.upper()`` is ``'FFI'``, ``strftime('%0999d')`` writes 999 characters from six, and an
f-string joins any number of fields. So each guard computes an upper bound of the text *before*
the call and refuses it if the bound passes ``max_size``. ``text_bound`` is that estimate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from engine.workflow.scripts.errors import refuse, too_large
from engine.workflow.scripts.limits import SandboxLimits, checkpoint, large_allocation

# Width and precision of at most three digits: a format spec cannot build a huge string.
_FORMAT_SPEC = re.compile(r"(.?[<>=^])?[-+ ]?z?#?0?\d{0,3}[,_]?(\.\d{1,3})?[bcdeEfFgGnosxX%]?")
_STRFTIME_WIDTH = re.compile(r"%[-_0^#]*(\d+)")  # glibc pads a field to any width it is given
_STRFTIME_FIELD = 64  # the longest field without a width (%c, %x...), timezone names aside
_SCALAR_TEXT = 64  # longest repr of a date, datetime, timedelta, UUID or None without a timezone name
_OTHER_TEXT = 200  # functions, iterators, proxies: a fixed-form repr with a source-bounded name
_CONVERSIONS: dict[int, Callable[[object], str]] = {ord("r"): repr, ord("s"): str, ord("a"): ascii}  # !r !s !a
# Characters one character may become, by output style, when it is not plain printable text.
_ESCAPED_WIDTH = {"repr": 10, "ascii": 10, "json": 6, "json_ascii": 12}


def _string_text(text: str, style: str) -> int:
    """Upper bound of the characters ``repr``/``ascii``/``json.dumps`` write for ``text``."""
    if text.isprintable() and (style in ("repr", "json") or text.isascii()):
        quote = '"' if style.startswith("json") else "'"
        return len(text) + 2 + text.count("\\") + text.count(quote)  # only these get a backslash
    if style == "json_ascii" and max(text) <= "\uffff":
        return 6 * len(text) + 2  # \\uXXXX; astral characters take a surrogate pair (12)
    return _ESCAPED_WIDTH[style] * len(text) + 2


def _timezone_text(item: Any) -> int:
    """A timezone's name is chosen by the script (``timezone(offset, name)``): count it."""
    tz = item if type(item) is timezone else getattr(item, "tzinfo", None)
    name = tz.tzname(None) if type(tz) is timezone else None
    return 10 * len(name) if name else 0


def _scalar_text(item: Any, kind: type) -> int:
    if kind is int or kind is bool:
        return (item.bit_length() * 1233 >> 12) + 3  # log10(2) ~ 1233/4096, plus sign and rounding
    if kind is float:
        return 26
    if kind is Decimal:
        return len(str(item)) + 11  # Decimal('...')
    if kind in (date, datetime, time, timedelta, timezone) or item is None:
        return _SCALAR_TEXT + _timezone_text(item)
    if kind is range:
        return 20 + sum(_scalar_text(n, int) for n in (item.start, item.stop, item.step))
    return _OTHER_TEXT


def text_bound(value: object, budget: int, style: str = "repr", indent: int | None = None) -> int:
    """Upper bound of the length of ``repr(value)`` (style "repr"/"ascii") or ``json.dumps(value)``
    (style "json"/"json_ascii" for ``ensure_ascii``), stopping once past ``budget``.

    Like ``weigh``, shared sub-objects count every time they are reached, as the C code visits them.
    """
    # Anything a script built can be in there; each item is dispatched on its exact type.
    stack: list[tuple[Any, int]] = [(value, 0)]
    total, steps = 0, 0
    while stack and total <= budget:
        item, depth = stack.pop()
        steps += 1
        if not steps & 4095:
            checkpoint()
        kind = type(item)
        if kind is str:
            total += _string_text(item, style)
            continue
        if kind in (list, tuple, dict, set, frozenset) or isinstance(item, BaseException):
            children = item.args if isinstance(item, BaseException) else \
                [*item.keys(), *item.values()] if kind is dict else item
            separators = 2 if indent is None else 2 + indent * (depth + 1)
            total += 40 + separators * len(children)
            if total <= budget:
                stack.extend((child, depth + 1) for child in children)
            continue
        total += _scalar_text(item, kind)
    return total


class TextGuards:
    """The text-writing half of ``Guards`` (guards.py); both share the limits."""

    def __init__(self, limits: SandboxLimits):
        self.max_size, self.max_bits = limits.max_size, limits.max_int_bits

    def _check_len(self, length: int, what: str) -> None:
        if length > self.max_size:
            too_large(f"{what} would build {length:,} elements", f"the limit is {self.max_size:,}")
        if length > 65_536:
            large_allocation()

    def _check_text(self, value: Any, what: str, style: str = "repr", indent: int | None = None) -> None:
        bound = text_bound(value, self.max_size, style, indent)
        if bound > self.max_size:
            too_large(f"{what} would write more than {self.max_size:,} characters",
                      f"the limit is {self.max_size:,} (escapes and separators count)")
        if bound > 65_536:
            large_allocation()

    def str_(self, *args: Any) -> str:
        if len(args) > 1:
            raise TypeError("str() takes at most one argument in diagram code")
        if not args or type(args[0]) is str:
            return args[0] if args else ""
        self._check_text(args[0], "str()")
        return str(args[0])

    def repr_(self, value: Any) -> str:
        self._check_text(value, "repr()")
        return repr(value)

    def format_value(self, value: Any, conversion: int, spec: str) -> str:
        """An f-string field: bounded text, bounded width and precision."""
        if conversion != -1 or type(value) is not str:
            style = "ascii" if conversion == ord("a") else "repr"
            self._check_text(value, "an f-string field", style)
        if conversion != -1:
            value = _CONVERSIONS[conversion](value)
        if not spec:
            return format(value)
        if isinstance(value, (date, time)):  # the spec is a strftime pattern
            self._check_strftime(value, spec)
        elif not _FORMAT_SPEC.fullmatch(spec):
            refuse(f"format spec {spec!r} is not allowed", "use [fill]align, sign, width and precision up to 999")
        elif isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) > 1000:
            refuse("formatting a Decimal with more than 1000 digits is not allowed")
        return format(value, spec)

    def fstring(self, *parts: str) -> str:
        """The whole f-string: each field is bounded, and so is their sum (``f'{s}{s}'`` doubles ``s``)."""
        self._check_len(sum(len(part) for part in parts), "an f-string")
        return "".join(parts)

    def _check_strftime(self, value: Any, pattern: Any) -> None:
        if type(pattern) is not str:
            return  # strftime raises its own TypeError
        widths = _STRFTIME_WIDTH.findall(pattern)
        if any(len(width) > 3 for width in widths):
            refuse("a strftime field wider than 999 characters is not allowed", "no date needs that much padding")
        checkpoint()
        fields = pattern.count("%") * (_STRFTIME_FIELD + _timezone_text(value))
        self._check_len(len(pattern) + fields + sum(int(width) for width in widths), "strftime()")

    def json_dumps(self, value: Any, *, sort_keys: bool = False, indent: Any = None, ensure_ascii: bool = True) -> str:
        if indent is not None and not (type(indent) is int and 0 <= indent <= 8):
            refuse("json.dumps() indent must be an int from 0 to 8")
        self._check_text(value, "json.dumps()", "json_ascii" if ensure_ascii else "json", indent)
        return json.dumps(value, sort_keys=bool(sort_keys), indent=indent, ensure_ascii=bool(ensure_ascii),
                          default=_json_default)

    # ---- str methods (INSTANCE_ATTRS names the wrapper) --------------------------------
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

    def _method_case(self, text: str, method: Callable[..., Any]) -> Callable[..., Any]:
        """upper, lower, title...: Unicode maps one character to up to three ('ﬃ'.upper() is 'FFI')."""
        def change_case() -> str:
            if not text.isascii():
                self._check_len(3 * len(text), f"str.{method.__name__}()")
            return method()
        return change_case

    def _method_strftime(self, value: Any, method: Callable[..., Any]) -> Callable[..., Any]:
        def strftime(pattern: str) -> str:
            self._check_strftime(value, pattern)
            return method(pattern)
        return strftime


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, time, timedelta)):
        return str(value) if isinstance(value, timedelta) else value.isoformat()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
