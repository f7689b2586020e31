"""The rules of the diagram-code sandbox and the pure pieces it is built from.

Errors and limits, size checks, the business helpers scripts may call, and the allow-lists:
which syntax (``check_syntax``) and which attributes (``INSTANCE_ATTRS``) diagram code may use.
Nothing here does I/O. The run-time guards live in ``expressions.py``; compiling, running and
the SpiffWorkflow wiring in ``script_engine.py``.
"""

from __future__ import annotations

import ast
import decimal
import reprlib
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NoReturn
from uuid import UUID

from RestrictedPython.transformer import INSPECT_ATTRIBUTES
from SpiffWorkflow.exceptions import WorkflowException

# ---------------------------------------------------------------- errors


class ScriptError(WorkflowException):
    """A diagram expression or script failed; the message says which code, what and why.

    A SpiffWorkflow exception, so the stock ``PythonScriptEngine`` passes it on with its message
    (it would replace any other exception by a generic one); our engine turns it into a
    ``WorkflowTaskException`` that also names the task.
    """

    def __init__(self, what: str, *, why: str = "", kind: str = "", source: str = "", lineno: int | None = None):
        super().__init__(what)
        self.what, self.why = what, why
        self.kind, self.source, self.lineno = kind, source, lineno

    def located(self, kind: str, source: str, lineno: int | None = None) -> ScriptError:
        """Attach the code the error happened in (first location wins: it is the most precise)."""
        if not self.kind:
            self.kind, self.source = kind, source
            self.lineno = self.lineno or lineno
        return self

    @property
    def error_line(self) -> str:
        lines = self.source.splitlines()
        if self.lineno and 0 < self.lineno <= len(lines):
            return lines[self.lineno - 1].strip()
        return self.source.strip()

    def __str__(self) -> str:
        text = self.what
        if self.kind:
            where = f"{self.kind} line {self.lineno}" if self.lineno and "\n" in self.source.strip() else self.kind
            snippet = self.error_line
            snippet = snippet if len(snippet) <= 120 else snippet[:117] + "..."
            text += f' in {where} "{snippet}"'
        text = f"{text}: {self.why}" if self.why else text
        return ". ".join([text, *self.notes]) if self.notes else text


class ScriptRefused(ScriptError):
    """The code tried something the sandbox does not allow (found at compile time or run time)."""


class ScriptLimitExceeded(ScriptError):
    """The code would build a value, or use memory, beyond the configured limits."""


class ScriptTimeout(ScriptLimitExceeded):
    """The code ran longer than its CPU-time limit."""


class ScriptFailed(ScriptError):
    """Ordinary Python error inside the code (KeyError, ZeroDivisionError, ...)."""


class ScriptSyntaxError(ScriptError):
    """The code does not parse."""


class Abort(BaseException):  # noqa: N818 - a control-flow signal, not an error type users catch
    """Carries a ScriptError out of sandboxed code.

    A BaseException on purpose: scripts may write ``except Exception`` (bare ``except:`` is
    refused at compile time and BaseException is not in their builtins), so a refusal or a
    timeout can never be swallowed by the code it stops.
    """

    def __init__(self, error: ScriptError):
        super().__init__(str(error))
        self.error = error


def refuse(what: str, why: str = "") -> NoReturn:
    raise Abort(ScriptRefused(what, why=why))


def too_large(what: str, why: str) -> NoReturn:
    raise Abort(ScriptLimitExceeded(what, why=why))


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 200, 100


def describe_exception(exc: BaseException) -> str:
    """``Type: message`` built without calling the exception's own ``__str__``.

    Exception args come from sandboxed code and may be huge or self-referencing; reprlib
    bounds the output. Decimal errors carry a list of condition classes as args[0], which is
    what makes SpiffWorkflow's own error path fail with a TypeError (spiffworkflow.md §14).
    """
    name, args = type(exc).__name__, exc.args
    if isinstance(exc, decimal.DecimalException) and args and isinstance(args[0], list):
        detail = ", ".join(getattr(c, "__name__", "?") for c in args[0][:5])
    elif len(args) == 1 and type(args[0]) is str and not isinstance(exc, KeyError):
        detail = args[0] if len(args[0]) <= 500 else args[0][:497] + "..."
    elif args:
        detail = _REPR.repr(args[0] if len(args) == 1 else args)
    else:
        detail = ""
    return f"{name}: {detail}" if detail else name


def defuse(exc: BaseException) -> None:
    """Replace non-text args in ``exc`` and its cause/context chain by ``describe_exception`` text.

    We chain our errors to the original for debugging, so a logger will print that chain; an
    exception raised by diagram code could carry a value whose repr never ends.
    """
    pending, seen = [exc], 0
    while pending and seen < 20:
        item = pending.pop()
        seen += 1
        if not all(type(a) is str and len(a) <= 1000 for a in item.args):
            item.args = (describe_exception(item),)
        pending.extend(e for e in (item.__cause__, item.__context__) if e is not None)


# ---------------------------------------------------------------- limits

_RUNNING = threading.local()  # the Budget of the evaluation running on this thread (see expressions.py)


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


# ---------------------------------------------------------------- pure business helpers
# Scripts call these; they take and return plain values and never touch I/O.


def to_decimal(value: object) -> Decimal:
    """Decimal from a Decimal, int or numeric string; floats are refused (they are not money)."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise TypeError(f"to_decimal() takes a Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, str) and len(value) > 100:
        raise ValueError("to_decimal(): the string is too long to be an amount")
    result = value if isinstance(value, Decimal) else Decimal(value.strip() if isinstance(value, str) else value)
    if not result.is_finite():
        raise ValueError(f"to_decimal(): {value!r} is not a finite number")
    return result


def round_money(amount: object, places: int = 2) -> Decimal:
    """Round half up to ``places`` decimal places, as finance rounds amounts."""
    if not isinstance(places, int) or not 0 <= places <= 8:
        raise ValueError("round_money(): places must be an int from 0 to 8")
    return to_decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def sum_amounts(lines: list[dict[str, Any]], key: str = "amount") -> Decimal:
    """Sum ``line[key]`` over expense lines as Decimal (strings and ints are converted)."""
    if not isinstance(lines, (list, tuple)):
        raise TypeError(f"sum_amounts() takes a list of lines, not {type(lines).__name__}")
    total = Decimal(0)
    for line in lines:
        if not isinstance(line, dict):
            raise TypeError(f"sum_amounts(): each line must be a dict, not {type(line).__name__}")
        total += to_decimal(line.get(key, 0))
    return total


def percent_of(amount: object, percent: object) -> Decimal:
    """``percent`` % of ``amount``, rounded to cents."""
    return round_money(to_decimal(amount) * to_decimal(percent) / 100)


def days_between(start: date, end: date) -> int:
    """Whole days from ``start`` to ``end`` (negative if ``end`` is earlier)."""
    if not isinstance(start, date) or not isinstance(end, date):
        raise TypeError("days_between() takes two dates")
    as_date = [d.date() if isinstance(d, datetime) else d for d in (start, end)]
    return (as_date[1] - as_date[0]).days


BUSINESS_HELPERS = {
    "to_decimal": to_decimal,
    "round_money": round_money,
    "sum_amounts": sum_amounts,
    "percent_of": percent_of,
    "days_between": days_between,
}


# ---------------------------------------------------------------- what code may reach at run time


class ModuleProxy:
    """A read-only namespace (``math``, ``json``): scripts reach the listed members and nothing else."""

    __slots__ = ("name", "members")

    def __init__(self, name: str, members: dict[str, Any]):
        self.name, self.members = name, dict(members)

    def member(self, attr: str) -> Any:
        if attr not in self.members:
            refuse(f"attribute {attr!r} of {self.name} is not allowed",
                   f"{self.name} offers only {', '.join(sorted(self.members))}")
        return self.members[attr]

    def __repr__(self) -> str:
        return f"<{self.name} (sandboxed)>"


def _names(text: str, kind: str | None = None) -> dict[str, str | None]:
    return dict.fromkeys(text.split(), kind)


# Attributes sandboxed code may read, by exact type; the value says which guard wraps a method
# (None: returned as is). dict views come back as lists: a view's set operators (``keys() & x``)
# would hash unchecked values. Anything else -- every dunder, every attribute of functions, frames,
# generators, exceptions, modules and types -- is refused. Exact types, not isinstance: a
# subclass could override a listed method.
_STR = _names("capitalize casefold count endswith find index isalnum isalpha isdecimal isdigit islower "
              "isnumeric isspace istitle isupper lower lstrip partition removeprefix removesuffix rfind "
              "rindex rpartition rsplit rstrip split splitlines startswith strip swapcase title upper")
_DATE = _names("year month day weekday isoweekday isoformat strftime replace toordinal isocalendar")
INSTANCE_ATTRS: dict[type, dict[str, str | None]] = {
    str: _STR | {"join": "join", "replace": "replace"},
    list: _names("append clear copy insert pop reverse") | _names("count index remove", "search")
    | {"extend": "extend", "sort": "sort"},
    tuple: _names("count index", "search"),
    dict: _names("copy clear popitem") | _names("keys values items", "list") | _names("get pop setdefault", "key")
    | {"update": "update"},
    set: _names("copy clear pop") | _names("add discard remove", "key")
    | _names("union intersection difference issubset issuperset isdisjoint", "args"),
    Decimal: _names("adjusted copy_abs copy_negate copy_sign is_finite is_infinite is_nan is_signed is_zero "
                    "max min normalize quantize sqrt to_eng_string to_integral to_integral_value"),
    date: _DATE,
    datetime: _DATE | _names("hour minute second microsecond date timestamp astimezone utcoffset"),
    timedelta: _names("days seconds microseconds total_seconds"),
}
CLASS_ATTRS: dict[type, dict[str, str | None]] = {
    date: _names("today fromisoformat"),
    datetime: _names("now fromisoformat combine"),
}


# ---------------------------------------------------------------- static allow-lists

_OPERATORS = {ast.And, ast.Or, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift,
              ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd, ast.Not, ast.UAdd, ast.USub, ast.Invert, ast.Eq,
              ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn}
_EXPRESSION_NODES = frozenset(_OPERATORS | {
    ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call, ast.keyword,
    ast.Constant, ast.Name, ast.Load, ast.Store, ast.Attribute, ast.Subscript, ast.Slice, ast.List, ast.Tuple,
    ast.Set, ast.Dict, ast.JoinedStr, ast.FormattedValue, ast.Starred, ast.GeneratorExp, ast.ListComp,
    ast.SetComp, ast.DictComp, ast.comprehension})
_SCRIPT_NODES = frozenset(_EXPRESSION_NODES - {ast.Expression} | {
    ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.Delete, ast.Del, ast.Pass, ast.If, ast.For, ast.While,
    ast.Break, ast.Continue, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Lambda, ast.NamedExpr,
    ast.Raise, ast.Assert, ast.Try, ast.ExceptHandler})
_NO_IMPORT = "modules cannot be imported; Decimal, date, datetime, timedelta, math and json are already available"
_NO_OUTPUT = "diagram code has no file, console or network access; results go into task data"
_IN_SCRIPT = "an expression is a single condition; use a script task for this"
# Refused syntax: (label, why). Child nodes (arguments, withitem, match_case) carry their parent's label.
_SYNTAX = {ast.Import: ("'import'", _NO_IMPORT), ast.ImportFrom: ("'from ... import'", _NO_IMPORT),
           ast.Lambda: ("lambda", _IN_SCRIPT), ast.arguments: ("lambda", _IN_SCRIPT),
           ast.NamedExpr: ("':='", _IN_SCRIPT), ast.ClassDef: ("'class'", "diagram code works on data, not classes"),
           ast.Global: ("'global'", "assign task data at the top level of the script"),
           ast.Nonlocal: ("'nonlocal'", "return values from functions instead"),
           ast.With: ("'with'", "there are no context managers"), ast.withitem: ("'with'", "no context managers"),
           ast.Yield: ("'yield'", "build and return a list"), ast.YieldFrom: ("'yield from'", "build a list"),
           ast.AsyncFunctionDef: ("'async def'", "diagram code is synchronous"),
           ast.Await: ("'await'", "diagram code is synchronous"), ast.Match: ("'match'", "use if/elif"),
           ast.match_case: ("'match'", "use if/elif"), ast.MatMult: ("'@'", "there are no matrices")}
_DENIED_CALLS = {
    **dict.fromkeys(("eval", "exec", "compile"), "running generated code is not allowed"),
    **dict.fromkeys(("getattr", "setattr", "delattr", "hasattr"), "attribute access by name is not allowed"),
    **dict.fromkeys(("globals", "locals", "vars", "dir"), "namespace introspection is not allowed"),
    **dict.fromkeys(("type", "object", "super", "memoryview", "bytearray", "bytes", "classmethod",
                     "staticmethod", "property", "id", "hash", "iter", "next", "format"),
                    "this builtin is not available in diagram code"),
    **dict.fromkeys(("open", "input", "breakpoint", "help", "exit", "quit", "print"), _NO_OUTPUT),
}
_LITERAL_TYPES = (str, int, float, bool, type(None))
BUDGETED_NODES = (ast.For, ast.While, ast.FunctionDef, ast.Lambda, ast.comprehension)


def _node_problem(node: ast.AST, allowed: frozenset[type]) -> tuple[str, str] | None:  # noqa: C901 - a flat rule list
    """(what, why) if ``node`` is not allowed, else None."""
    if type(node) not in allowed:
        label, why = _SYNTAX.get(type(node), (f"{type(node).__name__} syntax", "it is not part of diagram code"))
        return f"{label} is not allowed", why
    internal = "names starting with '_' are internal"
    if isinstance(node, ast.Name) and node.id != "_" and (node.id[0] == "_" or node.id in ("print", "printed")):
        return f"name {node.id!r} is not allowed", internal if node.id[0] == "_" else _NO_OUTPUT
    if isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            return f"attribute {node.attr!r} is not allowed", internal
        if node.attr in INSPECT_ATTRIBUTES:
            return f"attribute {node.attr!r} is not allowed", "frames and code objects are internal"
        if node.attr in ("format", "format_map"):
            return f"attribute {node.attr!r} is not allowed", "str.format reaches attributes by name; use an f-string"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _DENIED_CALLS:
        return f"call to {node.func.id!r} is not allowed", _DENIED_CALLS[node.func.id]
    if isinstance(node, ast.Constant) and not isinstance(node.value, _LITERAL_TYPES):
        return f"a {type(node.value).__name__} literal is not allowed", "use str, int, float, bool or None"
    if isinstance(node, ast.ExceptHandler) and node.type is None:
        return "bare 'except:' is not allowed", "name the exception types, e.g. except (KeyError, ValueError):"
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and isinstance(node.slice, ast.Slice):
        return "slice assignment is not allowed", "build a new list instead"
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and not isinstance(getattr(node, "ctx", None), ast.Store) \
            and any(isinstance(e, ast.Starred) for e in node.elts):
        return "'*' unpacking inside a literal is not allowed", "concatenate with + instead"
    if isinstance(node, ast.FormattedValue) and node.format_spec is not None and \
            not all(isinstance(v, ast.Constant) for v in node.format_spec.values):  # type: ignore[attr-defined]
        return "a computed format spec is not allowed", "write the width and precision as digits"
    if isinstance(node, ast.FunctionDef) and node.decorator_list:
        return "decorators are not allowed", "a decorator is a call diagram code cannot vet"
    if isinstance(node, ast.comprehension) and node.is_async:
        return "async comprehensions are not allowed", "diagram code is synchronous"
    return None


def check_syntax(tree: ast.AST, kind: str) -> None:
    """Raise ScriptRefused for the first (in source order) construct diagram code may not use."""
    allowed = _EXPRESSION_NODES if kind == "expression" else _SCRIPT_NODES
    found = []
    for node in ast.walk(tree):
        problem = _node_problem(node, allowed)
        if problem:
            # Sorted by where the node ends: in ``().__class__.__base__`` that names __class__ first.
            end = (getattr(node, "end_lineno", 0) or 0, getattr(node, "end_col_offset", 0) or 0)
            found.append((end, getattr(node, "lineno", 0) or 0, problem))
    if found:
        _, lineno, (what, why) = min(found)
        raise ScriptRefused(what, why=why, lineno=lineno or None)
