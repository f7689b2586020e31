"""The safe script engine for BPMN diagrams: compile, run and wire into SpiffWorkflow.

Expressions (gateway conditions, timers, service parameters, completion conditions, DMN cells)
and scripts (script tasks, pre/post scripts) share one pipeline:

1. parse, then check every node against an allow-list (``_EXPRESSION_NODES`` is the smaller one);
2. RestrictedPython's transformer (``_getattr_``, ``_getitem_``, ``_write_`` ...), extended by
   ``_Rewriter`` to route size-changing operators, comparisons, hash keys and f-string fields
   through guards and to put a ``_tick_()`` budget check in every loop, function and comprehension;
3. compile once per source (LRU cache) and run with the safe builtins of ``expressions.py``.

See docs/scripts.md for what diagram code may do and why the limits are enforced this way.
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
from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.workflow.expressions import Budget, Guards, public_globals, reserved_globals
from engine.workflow.script_helpers import (
    BUDGETED_NODES,
    Abort,
    SandboxLimits,
    ScriptError,
    ScriptFailed,
    ScriptLimitExceeded,
    ScriptRefused,
    ScriptSyntaxError,
    check_storable,
    check_syntax,
    defuse,
    describe_exception,
    is_storable_top_level,
    swap_budget,
)

T = TypeVar("T")

# ---------------------------------------------------------------- AST rewriting

_GUARDED_OPS = {ast.Add: "+", ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<", ast.Mod: "%"}
_COMPARE_SYMBOLS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
                    ast.In: "in", ast.NotIn: "not in"}


def _call(name: str, args: list[ast.expr], where: ast.AST) -> ast.Call:
    node = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    copy_locations(node, where)
    return node


def _is_literal(node: ast.AST) -> bool:
    """Constants and list/tuple displays of constants: comparing with them is cheap."""
    if isinstance(node, ast.Constant):
        return True
    return isinstance(node, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Constant) for e in node.elts)


class _Rewriter(RestrictingNodeTransformer):
    """RestrictedPython's policy plus our guards; ``guards`` is set per limits by ``_rewriter``.

    Each visitor lets RestrictedPython transform the children first, then wraps the result, so
    the names it inserts (``_binop_``, ``_tick_``...) are never checked against the '_' rule.
    """

    guards: Guards

    def _bounded(self, node: ast.expr) -> ast.expr:
        return node if isinstance(node, ast.Constant) else _call("_bounded_", [node], node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = self.node_contents_visit(node)
        symbol = _GUARDED_OPS.get(type(node.op))
        if symbol is None:
            return node
        if isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant):
            return self._fold(node, symbol)
        return _call("_binop_", [ast.Constant(symbol), node.left, node.right], node)

    def _fold(self, node: ast.BinOp, symbol: str) -> ast.AST:
        """Constant operands: compute now, so ``10**10**10`` is refused when the diagram is published."""
        runtime = _call("_binop_", [ast.Constant(symbol), node.left, node.right], node)
        try:
            value = self.guards.binop(symbol, node.left.value, node.right.value)  # type: ignore[attr-defined]
        except Abort as abort:
            self.error(node, abort.error.what + (f" ({abort.error.why})" if abort.error.why else ""))
            return node
        except Exception:  # e.g. 1 % 0: leave it to fail at run time, as Python would
            return runtime
        if isinstance(value, str | bytes) and len(value) > 4096:
            return runtime  # allowed, but not worth a big constant in the code object
        folded = ast.Constant(value)
        copy_locations(folded, node)
        return folded

    def visit_Compare(self, node: ast.Compare) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = self.node_contents_visit(node)
        operands = [node.left, *node.comparators]
        if len(node.ops) == 1:
            if type(node.ops[0]) not in _COMPARE_SYMBOLS or any(_is_literal(x) for x in operands):
                return node  # ``is``, or a literal side: the C work is bounded by the literal
            symbol = ast.Constant(_COMPARE_SYMBOLS[type(node.ops[0])])
            return _call("_compare_", [node.left, symbol, node.comparators[0]], node)
        bounded = [x if _is_literal(x) else self._bounded(x) for x in operands]
        node.left, node.comparators = bounded[0], bounded[1:]
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = self.node_contents_visit(node)
        spec = "".join(v.value for v in node.format_spec.values) if node.format_spec else ""  # type: ignore
        args: list[ast.expr] = [node.value, ast.Constant(node.conversion), ast.Constant(spec)]
        new = ast.FormattedValue(value=_call("_format_", args, node), conversion=-1, format_spec=None)
        copy_locations(new, node)
        return new

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        result = super().visit_Subscript(node)  # Load -> _getitem_ (checks the key); Store/Del -> _write_
        if isinstance(result, ast.Subscript) and not isinstance(result.slice, ast.Slice):
            result.slice = self._bounded(result.slice)  # the key is hashed: bound it
        return result

    def visit_Dict(self, node: ast.Dict) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = self.node_contents_visit(node)
        node.keys = [k if k is None else self._bounded(k) for k in node.keys]
        return node

    def visit_Set(self, node: ast.Set) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = self.node_contents_visit(node)
        node.elts = [self._bounded(e) for e in node.elts]
        return node

    def visit_DictComp(self, node: ast.DictComp) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = super().visit_DictComp(node)
        node.key = self._bounded(node.key)
        return node

    def visit_SetComp(self, node: ast.SetComp) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = super().visit_SetComp(node)
        node.elt = self._bounded(node.elt)
        return node

    # Budget checks: every way to run unboundedly passes a loop body, a call or a comprehension.
    def _tick(self, where: ast.AST) -> ast.Call:
        return _call("_tick_", [], where)

    def _tick_body(self, node: Any) -> Any:
        tick = ast.Expr(self._tick(node))
        copy_locations(tick, node.body[0])
        node.body.insert(0, tick)
        return node

    def visit_For(self, node: ast.For) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        return self._tick_body(super().visit_For(node))

    def visit_While(self, node: ast.While) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        return self._tick_body(super().visit_While(node))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        return self._tick_body(super().visit_FunctionDef(node))

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = super().visit_Lambda(node)
        node.body = ast.BoolOp(op=ast.And(), values=[self._tick(node), node.body])
        copy_locations(node.body, node)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:  # noqa: N802 - NodeTransformer dispatch name
        node = super().visit_comprehension(node)
        node.ifs.insert(0, self._tick(node.iter))  # first, so a false filter cannot skip it
        return node


@functools.cache
def _rewriter(limits: SandboxLimits) -> type[_Rewriter]:
    return type("Rewriter", (_Rewriter,), {"guards": Guards(limits)})


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


@functools.lru_cache(maxsize=4096)
def compile_code(source: str, kind: str, limits: SandboxLimits) -> CompiledCode:
    """Check and compile diagram code once per (source, kind, limits); raises ScriptError."""
    try:
        return _compile(source, kind, limits)
    except ScriptError as err:
        raise err.located(kind, source) from None


def _compile(source: str, kind: str, limits: SandboxLimits) -> CompiledCode:
    # Like eval(), ignore the whitespace BPMN editors put around a condition.
    text = source.strip() if kind == "expression" else source
    with _COMPILE_LOCK, warnings.catch_warnings(record=True) as caught:
        # Python warns at compile time about code that is almost certainly wrong (``x is 1``,
        # invalid escapes). Record them instead of printing -- or, under pytest's
        # filterwarnings=error, raising -- and refuse the code below with the warning's text.
        warnings.simplefilter("always")
        try:
            tree = ast.parse(text, FILENAMES[kind], "eval" if kind == "expression" else "exec")
        except SyntaxError as err:  # our error always has a message; SpiffWorkflow chokes on lineno=None
            raise ScriptSyntaxError(f"syntax error: {err.msg}", lineno=err.lineno) from None
        check_syntax(tree, kind)
        budgeted = any(isinstance(node, BUDGETED_NODES) for node in ast.walk(tree))
        compiler = compile_restricted_eval if kind == "expression" else compile_restricted_exec
        result = compiler(tree, FILENAMES[kind], policy=_rewriter(limits))
    if result.errors:
        line, _, message = result.errors[0].partition(": ")
        lineno = int(line[5:]) if line[5:].isdigit() else None
        raise ScriptRefused(message or result.errors[0], lineno=lineno)
    if caught:
        raise ScriptRefused(f"the {kind} compiles with a warning", why=str(caught[0].message),
                            lineno=caught[0].lineno)
    assert result.code is not None
    assigned = frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return CompiledCode(result.code, source, kind, budgeted, frozenset(result.used_names), assigned)


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
        self._check_names(compiled, context, external)
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
        check_storable(context, self.limits.max_size)  # inside the budget: it walks the data

    def _check_names(self, compiled: CompiledCode, context: dict[str, Any], external: dict[str, Any]) -> None:
        """Fail fast where task data and helper names collide (SpiffWorkflow's check, made precise):
        only names this script reads or assigns count, so a ``date`` field does not break every script."""
        clashes = (set(self.reserved) | set(external) | (compiled.names & set(self.public))) & set(context)
        assigned = compiled.assigned & (set(self.public) | set(external))
        if clashes or assigned:
            what = f"task data {sorted(clashes)} hides" if clashes else f"the script assigns {sorted(assigned)}:"
            raise ScriptFailed(f"{what} names of helpers the script needs",
                               why="rename these fields or variables").located("script", compiled.source)


# ---------------------------------------------------------------- SpiffWorkflow wiring


class SandboxedEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's task-data environment, with every evaluate/execute run through the Sandbox.

    Keeps the library's contract: ``evaluate`` sees task data (over helpers and any external
    context such as DMN's ``dmninputexpr``); ``execute`` runs with task data as globals, so
    assigned variables become task data, and cleans up after itself.
    """

    def __init__(self, extra_globals: dict[str, Any] | None = None, limits: SandboxLimits | None = None):
        self.sandbox = Sandbox(extra_globals, limits)
        super().__init__(self.sandbox.public)

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        return self.sandbox.evaluate(expression, context, external_context)

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        self.sandbox.execute(script, context, external_context)
        return True


class SandboxedScriptEngine(PythonScriptEngine):
    """Turns sandbox errors into ``WorkflowTaskException`` naming the task, line and reason.

    Also replaces two error paths of the library that fail themselves (spiffworkflow.md §14):
    ``create_task_exec_exception`` (TypeError on a SyntaxError without line number, or on
    non-string exception args such as Decimal's) and ``call_service`` (NameError on ``script``).
    """

    def evaluate(self, task: Any, expression: str, external_context: dict[str, Any] | None = None) -> Any:
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ScriptError as err:
            raise self._task_error(task, err) from err
        except SpiffWorkflowException as err:
            err.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as err:
            raise self.create_task_exec_exception(task, expression, err) from err

    def execute(self, task: Any, script: str, external_context: dict[str, Any] | None = None) -> Any:
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except ScriptError as err:
            raise self._task_error(task, err) from err
        except Exception as err:
            raise self.create_task_exec_exception(task, script, err) from err

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:
            raise self.create_task_exec_exception(task, "", err) from err

    def create_task_exec_exception(self, task: Any, script: str, err: Exception) -> WorkflowTaskException:
        if isinstance(err, ScriptError):
            return self._task_error(task, err)
        lineno = err.lineno if isinstance(err, SyntaxError) else None
        return WorkflowTaskException(describe_exception(err), task=task, exception=err, line_number=lineno or 0)

    @staticmethod
    def _task_error(task: Any, err: ScriptError) -> WorkflowTaskException:
        return WorkflowTaskException(f"{type(err).__name__}: {err}", task=task, exception=err,
                                     line_number=err.lineno or 0, error_line=err.error_line)


def make_script_engine(
    extra_globals: dict[str, Any] | None = None,
    *,
    limits: SandboxLimits | None = None,
    engine_class: type[PythonScriptEngine] = SandboxedScriptEngine,
) -> PythonScriptEngine:
    """The script engine every workflow gets: sandboxed expressions and scripts.

    ``extra_globals`` adds trusted, pure callables (names must not start with ``_``); scripts can
    call them but not read their attributes. ``engine_class`` lets a subclass (for example one
    that carries the connector port) keep the sandbox; derive it from SandboxedScriptEngine to
    keep the task-naming errors as well.
    """
    return engine_class(environment=SandboxedEnvironment(extra_globals, limits))
