"""Compile and run diagram code: one checked, rewritten, cached code object per source, run under
the budget, the guards and a fresh Decimal context.

``Sandbox`` is the entry point (``compile``, ``evaluate``, ``execute``); ``spiff_adapter.py`` wires
it into SpiffWorkflow. See docs/scripts.md for what diagram code may do.
"""

from __future__ import annotations

import ast
import decimal
import functools
import threading
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType
from typing import Any, TypeVar

from RestrictedPython import compile_restricted_eval, compile_restricted_exec

from engine.workflow.scripts.errors import (
    Abort,
    ScriptError,
    ScriptFailed,
    ScriptLimitExceeded,
    ScriptRefused,
    ScriptSyntaxError,
    defuse,
    describe_exception,
)
from engine.workflow.scripts.guards import Guards
from engine.workflow.scripts.limits import Budget, SandboxLimits, swap_budget
from engine.workflow.scripts.namespace import public_globals, reserved_globals
from engine.workflow.scripts.policy import BUDGETED_NODES, check_syntax, is_straight_line
from engine.workflow.scripts.rewriter import rewriter_for
from engine.workflow.scripts.storable import check_storable, is_storable_top_level

T = TypeVar("T")

# ---------------------------------------------------------------- compiling

FILENAMES = {"expression": "<expression>", "script": "<script>"}
_COMPILE_LOCK = threading.Lock()  # warnings.catch_warnings() swaps global state: one compile at a time


@dataclass(frozen=True, slots=True)
class CompiledCode:
    code: CodeType
    source: str
    kind: str  # "expression" or "script"
    budgeted: bool  # has loops, functions or comprehensions, so it needs a _tick_ budget
    names: frozenset[str]  # names the code reads
    assigned: frozenset[str]  # names the code assigns (anywhere: a conservative superset)
    touched: frozenset[str]  # every name in the code: the only task data it can reach (no globals())
    straight_line: bool = False  # a script without loops or functions: it may run in-process (isolation.py)


@functools.lru_cache(maxsize=4096)
def compile_code(source: str, kind: str, limits: SandboxLimits) -> CompiledCode:
    """Check and compile diagram code once per (source, kind, limits); raises ScriptError."""
    try:
        return _compile(source, kind, limits)
    except ScriptError as err:
        raise err.located(kind, source) from None


def _parse(text: str, kind: str) -> ast.Expression | ast.Module:
    if kind == "expression":
        return ast.parse(text, FILENAMES[kind], "eval")
    return ast.parse(text, FILENAMES[kind], "exec")


def _compile(source: str, kind: str, limits: SandboxLimits) -> CompiledCode:
    # Like eval(), ignore the whitespace BPMN editors put around a condition.
    text = source.strip() if kind == "expression" else source
    with _COMPILE_LOCK, warnings.catch_warnings(record=True) as caught:
        # Python warns at compile time about code that is almost certainly wrong (``x is 1``,
        # invalid escapes). Record them instead of printing -- or, under pytest's
        # filterwarnings=error, raising -- and refuse the code below with the warning's text.
        warnings.simplefilter("always")
        try:
            tree = _parse(text, kind)
        except SyntaxError as err:  # our error always has a message; SpiffWorkflow chokes on lineno=None
            raise ScriptSyntaxError(f"syntax error: {err.msg}", lineno=err.lineno) from None
        check_syntax(tree, kind)
        budgeted = any(isinstance(node, BUDGETED_NODES) for node in ast.walk(tree))
        straight_line = kind == "script" and is_straight_line(tree)  # read before the compiler rewrites the tree
        compiler = compile_restricted_eval if kind == "expression" else compile_restricted_exec
        result = compiler(tree, FILENAMES[kind], policy=rewriter_for(limits))
    if result.errors:
        line, _, message = result.errors[0].partition(": ")
        lineno = int(line[5:]) if line[5:].isdigit() else None
        raise ScriptRefused(message or result.errors[0], lineno=lineno)
    if caught:
        raise ScriptRefused(f"the {kind} compiles with a warning", why=str(caught[0].message),
                            lineno=caught[0].lineno)
    assert result.code is not None
    names = [node for node in ast.walk(tree) if isinstance(node, ast.Name)]
    assigned = frozenset(n.id for n in names if isinstance(n.ctx, ast.Store))
    touched = frozenset(n.id for n in names)
    return CompiledCode(result.code, source, kind, budgeted, frozenset(result.used_names), assigned, touched,
                        straight_line)


# ---------------------------------------------------------------- running

# Money arithmetic must not depend on whatever context the calling thread has set, and the
# flags Decimal operations raise must not leak back: each run gets a fresh copy.
_DECIMAL_CONTEXT = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN, Emin=-999_999, Emax=999_999,
                                   traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])


def _line_in_code(exc: BaseException, compiled: CompiledCode) -> int | None:
    filename, lineno = FILENAMES[compiled.kind], None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == filename:
            lineno = line
    return lineno


def run_code(compiled: CompiledCode, namespace: dict[str, Any], limits: SandboxLimits, action: Callable[[], T]) -> T:
    """Call ``action`` (which evals/execs ``compiled`` in ``namespace``) under the budget and our
    Decimal context, translating every failure into a located ScriptError.

    Plain try/finally instead of context managers: this wraps every gateway condition, and
    three ``with`` blocks cost more than the evaluation itself.
    """
    seconds = limits.expression_seconds if compiled.kind == "expression" else limits.script_seconds
    budget = Budget(compiled.kind, seconds, limits.max_memory_bytes, precise=compiled.budgeted)
    if compiled.budgeted:
        namespace["_tick_"] = budget.tick
    previous_budget, previous_context = swap_budget(budget), decimal.getcontext()
    decimal.setcontext(_DECIMAL_CONTEXT.copy())  # a copy: operations set flags on their context
    try:
        return action()
    except Abort as abort:
        defuse(abort)
        raise abort.error.located(compiled.kind, compiled.source, _line_in_code(abort, compiled)) from None
    except ScriptError as err:
        raise err.located(compiled.kind, compiled.source) from None
    except Exception as exc:
        limit = isinstance(exc, (RecursionError, MemoryError))
        error = ScriptLimitExceeded(describe_exception(exc), why="the code recursed or allocated too much") \
            if limit else ScriptFailed(describe_exception(exc))
        defuse(exc)
        raise error.located(compiled.kind, compiled.source, _line_in_code(exc, compiled)) from exc
    finally:
        decimal.setcontext(previous_context)
        swap_budget(previous_budget)


class Sandbox:
    """Evaluates expressions and executes scripts against task data, under one set of limits."""

    def __init__(self, extra_globals: dict[str, Any] | None = None, limits: SandboxLimits | None = None):
        self.limits = limits or SandboxLimits()
        guards = Guards(self.limits)
        bad = [name for name in extra_globals or {} if name.startswith("_")]
        if bad:
            raise ValueError(f"extra script globals must not start with '_': {bad}")
        self.public = {**public_globals(guards), **(extra_globals or {})}
        self.reserved = reserved_globals(guards)
        self._compiled: dict[tuple[str, str], CompiledCode] = {}  # in front of compile_code's LRU:
        # a plain dict lookup, where the LRU key hashes the limits dataclass on every call

    def compile(self, source: str, kind: str) -> CompiledCode:
        """Compiled code for ``source``; raises ScriptError if it would be refused (use it at publish time)."""
        compiled = self._compiled.get((source, kind))
        if compiled is None:
            if len(self._compiled) >= 4096:
                self._compiled.clear()
            compiled = self._compiled[source, kind] = compile_code(source, kind, self.limits)
        return compiled

    def evaluate(self, source: str, context: dict[str, Any], external: dict[str, Any] | None = None) -> Any:
        compiled = self.compile(source, "expression")
        # Task data wins over helpers (as in SpiffWorkflow); the guard names win over everything.
        namespace = {**self.public, **(external or {}), **context, **self.reserved}
        return run_code(compiled, namespace, self.limits,
                        lambda: eval(compiled.code, namespace))  # noqa: S307 - checked, rewritten, restricted code

    def execute(self, source: str, context: dict[str, Any], external: dict[str, Any] | None = None) -> None:
        """Run a script with ``context`` (task data) as its globals, like SpiffWorkflow does.

        Variables the script assigns become task data; afterwards the injected names, functions
        and other non-data leftovers are removed, and the rest must be storable.
        """
        compiled = self.compile(source, "script")
        external = external or {}
        self.check_names(compiled, context, external)
        injected = {k: v for k, v in self.public.items() if k not in context}
        injected.update(external)
        before = dict(context)
        context.update(injected)
        context.update(self.reserved)
        run_code(compiled, context, self.limits, lambda: self._run_script(compiled, context, injected, before))

    def _run_script(self, compiled: CompiledCode, context: dict[str, Any], injected: dict[str, Any],
                    before: dict[str, Any]) -> None:
        try:
            exec(compiled.code, context)  # noqa: S102 - checked, rewritten, restricted code
        finally:
            for key in list(context):
                value = context[key]
                if key in before and value is before[key]:
                    continue  # untouched task data stays, whatever it is
                if key.startswith("_") or key in injected or not is_storable_top_level(value):
                    del context[key]  # guards, helpers, functions, sets, iterators: not data
        check_storable(context, self.limits)  # inside the budget: it walks the data

    def check_names(self, compiled: CompiledCode, context: dict[str, Any], external: dict[str, Any]) -> None:
        """Fail fast where task data and helper names collide (SpiffWorkflow's check, made precise):
        only names this script reads or assigns count, so a ``date`` field does not break every script."""
        clashes = (set(self.reserved) | set(external) | (compiled.names & set(self.public))) & set(context)
        assigned = compiled.assigned & (set(self.public) | set(external))
        if clashes or assigned:
            what = f"task data {sorted(clashes)} hides" if clashes else f"the script assigns {sorted(assigned)}:"
            raise ScriptFailed(f"{what} names of helpers the script needs",
                               why="rename these fields or variables").located("script", compiled.source)
