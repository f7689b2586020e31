"""Scripts (script tasks, pre/post scripts) run in an evaluator process, with SpiffWorkflow's semantics kept.

The in-process guards bound what they know about; a C call they do not know about would run
unbounded in the engine process, holding a web or scheduler thread. So scripts run in a pool of
evaluator processes (``evaluator_pool.py``) under kernel limits, and this module makes that look
exactly like ``Sandbox.execute`` to SpiffWorkflow:

- the script is compiled and checked here first (refusals and name clashes cost no round trip);
- only the task data the script names is sent (it cannot reach any other: no ``globals()``);
- what comes back is decoded strictly (``evaluator_wire.decode``), may only name variables that
  were sent or that the script assigns, and is checked again here as storable task data before
  it replaces the sent variables; untouched task data is never copied;
- a script that fails changes nothing (in-process, assignments made before the error stayed).

A straight-line script (``CompiledCode.straight_line``: no loop, no function; docs/scripts.md says why
its risk is that of a few expressions) runs here, in-process, through the same ``Sandbox`` and with the
same contract: it gets deep copies of the variables it names, and its result is checked and merged
exactly as an evaluator's reply is.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from importlib import import_module
from typing import Any

from engine.workflow.scripts import evaluator_wire as wire
from engine.workflow.scripts.errors import (
    ScriptError,
    ScriptFailed,
    ScriptLimitExceeded,
    ScriptRefused,
    ScriptSyntaxError,
    ScriptTimeout,
)
from engine.workflow.scripts.evaluator_pool import EvaluatorLost, EvaluatorPool, shared_pool
from engine.workflow.scripts.sandbox import CompiledCode, Sandbox
from engine.workflow.scripts.storable import check_storable

_ERRORS = {cls.__name__: cls for cls in (ScriptRefused, ScriptLimitExceeded, ScriptTimeout, ScriptFailed,
                                         ScriptSyntaxError)}
_requests = itertools.count(1)


def importable_names(extra_globals: dict[str, Any] | None) -> dict[str, str]:
    """``module:qualname`` of each extra global, so the evaluator can import the very same function."""
    names = {}
    for name, value in (extra_globals or {}).items():
        target = f"{getattr(value, '__module__', '')}:{getattr(value, '__qualname__', '')}"
        module, _, qualname = target.partition(":")
        found: Any = import_module(module) if module else None
        for part in qualname.split(".") if found is not None else ():
            found = getattr(found, part, None)
        if found is not value:
            raise ValueError(f"extra script global {name!r} must be a module-level function so the evaluator "
                             "process can import it (or run scripts in-process: isolated=False)")
        names[name] = target
    return names


class IsolatedScripts:
    """``Sandbox.execute`` with the script run by an evaluator process (in-process if straight-line)."""

    def __init__(self, sandbox: Sandbox, extra_globals: dict[str, Any] | None = None,
                 pool: EvaluatorPool | None = None, *, straight_line_here: bool = True):
        self.sandbox, self.extras, self._pool = sandbox, importable_names(extra_globals), pool
        self.straight_line_here = straight_line_here  # False: every script goes to an evaluator (its tests)
        self._limits = list(dataclasses.astuple(sandbox.limits))

    @property
    def pool(self) -> EvaluatorPool:
        return self._pool or shared_pool()

    def execute(self, source: str, context: dict[str, Any], external: dict[str, Any] | None = None) -> None:
        compiled = self.sandbox.compile(source, "script")
        external = external or {}
        self.sandbox.check_names(compiled, context, external)
        sent = [key for key in context if key in compiled.touched]
        if compiled.straight_line and self.straight_line_here:
            changes = self._run_here(compiled, {key: context[key] for key in sent}, external, sent)
        else:
            changes = self._run_in_evaluator(compiled, {key: context[key] for key in sent}, external, sent)
        removed = set(sent) - set(changes)
        merged = {key: value for key, value in context.items() if key not in removed}
        merged.update(changes)
        try:
            check_storable(merged, self.sandbox.limits)  # ours to enforce, whatever the evaluator says
        except ScriptError as err:
            raise err.located("script", source) from None
        for key in removed:
            del context[key]
        context.update(changes)

    def _run_here(self, compiled: CompiledCode, data: dict[str, Any], external: dict[str, Any],
                  sent: list[str]) -> dict[str, Any]:
        """What an evaluator would send back, computed in this process: the script works on copies (as
        on decoded JSON there), so a failure leaves task data untouched and nothing it shares changes."""
        work = copy.deepcopy(data)
        self.sandbox.execute(compiled.source, work, copy.deepcopy(external) if external else {})
        allowed = set(sent) | compiled.assigned
        if not work.keys() <= allowed:  # cannot happen (the sandbox drops injected names): keep the contract
            raise ScriptFailed(f"the script left variables it does not assign: {sorted(work.keys() - allowed)[:5]}",
                               ).located("script", compiled.source)
        return work

    def _run_in_evaluator(self, compiled: CompiledCode, data: dict[str, Any], external: dict[str, Any],
                          sent: list[str]) -> dict[str, Any]:
        source = compiled.source
        request = {"id": next(_requests), "source": source, "limits": self._limits, "extras": self.extras,
                   "data": self._encode(data, source), "external": self._encode(external, source)}
        reply = self._call(request, source)
        if not reply.get("ok"):
            raise _error(reply.get("error"), source)
        return self._changes(reply.get("data"), compiled, sent)

    def _call(self, request: dict[str, Any], source: str) -> dict[str, Any]:
        seconds = self.sandbox.limits.script_seconds
        try:
            reply = self.pool.call(request, seconds)
        except EvaluatorLost as lost:
            if lost.timed_out:
                raise ScriptTimeout(f"the script ran longer than its {seconds:g} s limit",
                                    why=f"{lost}; look for an endless loop or one operation on a huge value",
                                    ).located("script", source) from None
            raise ScriptLimitExceeded(str(lost), why="it broke a limit the operating system enforces "
                                      "(memory or CPU)").located("script", source) from None
        if reply.get("id") != request["id"]:
            raise ScriptFailed("the script evaluator answered another request").located("script", source)
        return reply

    @staticmethod
    def _encode(data: dict[str, Any], source: str) -> Any:
        try:
            return wire.encode(data)
        except (wire.Unencodable, RecursionError) as exc:
            raise ScriptFailed(f"task data the script uses holds {exc}",
                               why="only JSON values, Decimal, dates and UUIDs reach the script evaluator",
                               ).located("script", source) from None

    def _changes(self, data: Any, compiled: CompiledCode, sent: list[str]) -> dict[str, Any]:
        """The variables the evaluator sent back, if they are what a script could have left."""
        try:
            changes = wire.decode(data)
        except (wire.WireError, RecursionError) as exc:
            raise ScriptFailed(f"the script evaluator sent back invalid task data: {exc}").located(
                "script", compiled.source) from None
        allowed = set(sent) | compiled.assigned
        if type(changes) is not dict or not set(changes) <= allowed:
            stray = sorted(set(changes) - allowed)[:5] if type(changes) is dict else type(changes).__name__
            raise ScriptFailed(f"the script evaluator sent back variables the script does not assign: {stray}",
                               ).located("script", compiled.source)
        return changes


def _error(error: Any, source: str) -> ScriptError:
    """The evaluator's error, rebuilt from plain fields: a known class, bounded text, a plausible line."""
    fields = error if type(error) is dict else {}
    cls = _ERRORS.get(fields.get("type"), ScriptFailed)
    what, why, lineno = fields.get("what"), fields.get("why"), fields.get("lineno")
    what = what[:1000] if type(what) is str else "the script failed in the evaluator"
    why = why[:1000] if type(why) is str else ""
    line_count = source.count("\n") + 1
    lineno = lineno if type(lineno) is int and 0 < lineno <= line_count else None
    return cls(what, why=why).located("script", source, lineno)
