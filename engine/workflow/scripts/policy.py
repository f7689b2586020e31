"""The allow-lists of the diagram-code sandbox: which attributes and which syntax code may use.

``INSTANCE_ATTRS``/``CLASS_ATTRS`` and ``ModuleProxy`` decide at run time which attributes the
``_getattr_`` guard hands out; ``check_syntax`` refuses, before compiling, every construct diagram
code may not use. See docs/scripts.md for the reasons behind each rule.
"""

from __future__ import annotations

import ast
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from engine.workflow.scripts.errors import ScriptRefused, refuse

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
_STR = _names("count endswith find index isalnum isalpha isdecimal isdigit islower isnumeric isspace istitle "
              "isupper lstrip partition removeprefix removesuffix rfind rindex rpartition rsplit rstrip split "
              "splitlines startswith strip")
_DATE = _names("year month day weekday isoweekday isoformat replace toordinal isocalendar") | {"strftime": "strftime"}
INSTANCE_ATTRS: dict[type, dict[str, str | None]] = {
    str: _STR | {"join": "join", "replace": "replace"}
    | _names("capitalize casefold lower swapcase title upper", "case"),
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
# A straight-line script (docs/scripts.md, "Which scripts run in-process"): what expressions may hold, in
# statements that each run at most once -- no loop, no function, no ':=' -- so its worst case is a sequence of
# guarded operations as long as its text. ``try`` only skips forward, and its handlers must name
# Exception subclasses (``check_syntax``), which never catch the sandbox's stop signal.
STRAIGHT_LINE_NODES = frozenset(_EXPRESSION_NODES - {ast.Expression} | {
    ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.Delete, ast.Del, ast.Pass, ast.If, ast.Raise, ast.Assert,
    ast.Try, ast.ExceptHandler})


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
    if isinstance(node, ast.FormattedValue) and isinstance(node.format_spec, ast.JoinedStr) and \
            not all(isinstance(v, ast.Constant) for v in node.format_spec.values):
        return "a computed format spec is not allowed", "write the width and precision as digits"
    if isinstance(node, ast.FunctionDef) and node.decorator_list:
        return "decorators are not allowed", "a decorator is a call diagram code cannot vet"
    if isinstance(node, ast.comprehension) and node.is_async:
        return "async comprehensions are not allowed", "diagram code is synchronous"
    return None


def is_straight_line(tree: ast.AST) -> bool:
    """Whether a (checked) script holds only straight-line statements: see ``STRAIGHT_LINE_NODES``."""
    return all(type(node) in STRAIGHT_LINE_NODES for node in ast.walk(tree))


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
