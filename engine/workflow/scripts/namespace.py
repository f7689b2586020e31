"""The names diagram code starts with: safe builtins, data types, ``math``/``json`` proxies.

``public_globals`` are the names users write (``Decimal``, ``math``, ``round_money``...);
``reserved_globals`` the ``__builtins__`` and ``_getattr_``-style names only the compiler inserts.
Both route every size-changing call through one ``Guards`` instance.
"""

from __future__ import annotations

import math
import time as _time_module
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

from engine.workflow.scripts.guards import Guards
from engine.workflow.scripts.helpers import BUSINESS_HELPERS
from engine.workflow.scripts.policy import ModuleProxy


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
    "abs": abs, "all": all, "any": any, "bool": bool, "chr": chr, "divmod": divmod,
    "float": float, "len": len, "list": list, "ord": ord, "reversed": reversed, "tuple": tuple,
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
        int=_guarded_type(int, guards.int_), str=_guarded_type(str, guards.str_),
        dict=_guarded_type(dict, guards.dict_), set=_guarded_type(set, guards.set_),
        repr=guards.repr_, round=guards.round_, isinstance=guards.isinstance_, sum=guards.sum_,
        sorted=guards.sorted_, min=guards.min_, max=guards.max_, range=guards.range_, zip=guards.zip_,
        enumerate=guards.enumerate_,
    )
    return {
        "__builtins__": builtins, "_getattr_": guards.getattr_, "_getitem_": guards.getitem,
        "_write_": guards.write, "_getiter_": iter, "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence, "_inplacevar_": guards.inplace,
        "_apply_": lambda fn, *args, **kwargs: fn(*args, **kwargs),
        "_binop_": guards.binop, "_compare_": guards.compare, "_bounded_": guards.bounded,
        "_format_": guards.format_value, "_fstring_": guards.fstring, "_key_": guards.key,
    }
