"""Where a run-time failure happened, in the designer's terms: file, element id, which expression, why.

A failure inside engine work arrives as whatever SpiffWorkflow or the sandbox raised: a
``WorkflowTaskException`` naming the task, a sandbox ``ScriptError`` carrying the code, or a bare
``Exception('Invalid duration')`` from a timer. ``locate`` reads them (duck-typed: this module imports no
SpiffWorkflow) and the frames they passed through, and says
``travel/travel.bpmn:decide_route: condition "amount_value > limit" failed: NameError: name 'limit' is not
defined`` instead of a traceback. What it cannot find it leaves out; it never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import TracebackType
from typing import Any

MAX_EXPRESSION = 160


@dataclass(frozen=True)
class FailureSite:
    file: str | None  # the diagram file of the failing element (None: not known)
    element: str | None  # its BPMN id
    kind: str | None  # script, condition, timer expression, DMN cell, service parameter, pre-script...
    expression: str | None  # the code that failed
    detail: str | None  # e.g. "decision table approval_route_table, rule rule_3"
    reason: str  # the error itself, one line, without SpiffWorkflow's decorations

    def text(self) -> str:
        """``kind "expression" (detail) failed: reason``, or only the reason when no expression is known."""
        if not self.expression:
            return self.reason
        shown = self.expression if len(self.expression) <= MAX_EXPRESSION else self.expression[:157] + "..."
        detail = f" ({self.detail})" if self.detail else ""
        return f'{self.kind or "expression"} "{shown}"{detail} failed: {self.reason}'


def locate(exc: BaseException, *, current: Any = None) -> FailureSite:
    """The site of ``exc``; ``current`` is the task the engine was running (used when the error names none)."""
    try:
        return _locate(exc, current)
    except Exception:  # noqa: BLE001 - naming the failure must never become a failure of its own
        return FailureSite(None, None, None, None, None, _one_line(exc))


def _locate(exc: BaseException, current: Any) -> FailureSite:
    chain = _chain(exc)
    tasks = (getattr(e, "task", None) for e in chain)
    task = next((t for t in tasks if _is_task(t)), None)
    frames = [f for e in chain for f in _frames(e.__traceback__)]
    task = task or next((v for f in reversed(frames) for k in ("my_task", "task") if _is_task(v := f.get(k))), None)
    task = task or (current if _is_task(current) else None)
    spec = getattr(task, "task_spec", None)
    script = next((e for e in chain if hasattr(e, "source") and hasattr(e, "what")), None)
    expression = (getattr(script, "source", "") or "").strip() or None
    kind, detail = _kind(spec, script, expression)
    if expression is not None and "\n" in expression:  # a script of many lines: the line that failed
        lineno = getattr(script, "lineno", None)
        lines = expression.splitlines()
        if isinstance(lineno, int) and 0 < lineno <= len(lines):
            detail, expression = f"line {lineno}", lines[lineno - 1].strip()
        else:
            detail, expression = f"{len(lines)} lines", lines[0].strip() + " ..."
    if kind == "timer expression" and expression is None:
        expression = str(getattr(getattr(spec, "event_definition", None), "expression", "") or "").strip() or None
    if kind == "DMN cell":
        expression, detail = _dmn_cell(frames, spec, expression)
    reason = _reason(script, exc) + _hints(chain)
    return FailureSite(_file_of(task), _element_of(spec), kind, expression, detail, reason)


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found and len(found) < 10:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _frames(tb: TracebackType | None) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while tb is not None and len(frames) < 200:
        frames.append(tb.tb_frame.f_locals)
        tb = tb.tb_next
    return frames


def _is_task(value: Any) -> bool:
    return value is not None and hasattr(value, "task_spec") and hasattr(value, "workflow")


def _kind(spec: Any, script: Any, expression: str | None) -> tuple[str | None, str | None]:
    names = {cls.__name__ for cls in type(spec).__mro__} if spec is not None else set()
    if any("BusinessRuleTask" in n for n in names):
        return "DMN cell", None
    definition = getattr(spec, "event_definition", None)
    if definition is not None and any("Timer" in cls.__name__ for cls in type(definition).__mro__):
        return "timer expression", None
    if any("Gateway" in n for n in names):
        return "condition", None
    if expression is not None and expression == (getattr(spec, "prescript", None) or "").strip():
        return "pre-script", None
    if expression is not None and expression == (getattr(spec, "postscript", None) or "").strip():
        return "post-script", None
    if any("ServiceTask" in n for n in names):
        return "service parameter", None
    if any("ScriptTask" in n for n in names):
        return "script", None
    return (getattr(script, "kind", None) or None), None


def _dmn_cell(frames: list[dict[str, Any]], spec: Any, expression: str | None) -> tuple[str | None, str | None]:
    """The failing cell and its rule, from the DMN engine's frames (``rule``, ``lhs``) when they are there."""
    rule = next((f["rule"] for f in reversed(frames) if hasattr(f.get("rule"), "row_number")), None)
    cell = next((f["lhs"] for f in reversed(frames) if isinstance(f.get("lhs"), str)), None)
    table = getattr(getattr(spec, "dmnEngine", None), "decision_table", None)
    table_id = getattr(table, "id", None)
    parts = [f"decision table {table_id}"] if table_id else []
    if rule is not None:
        parts.append(f"rule {getattr(rule, 'id', None) or rule.row_number} (row {rule.row_number})")
    return (cell.strip() if cell else expression), ", ".join(parts) or None


def _reason(script: Any, exc: BaseException) -> str:
    if script is not None:  # the sandbox's own words: "NameError: name 'x' is not defined" (+ why)
        what, why = str(getattr(script, "what", "")), str(getattr(script, "why", "") or "")
        text = f"{what}: {why}" if why else what
        if text.strip():
            return _one_line_text(text)
    inner = _chain(exc)[-1]
    text = _one_line(inner)
    return text if type(inner).__name__ in text or type(inner).__name__ == "Exception" else \
        f"{type(inner).__name__}: {text}"


def _hints(chain: list[BaseException]) -> str:
    """SpiffWorkflow's "Did you mean 'amount'?" for a misspelt name: worth keeping."""
    notes = [str(n).strip() for e in chain for n in getattr(e, "notes", []) or [] if "Did you mean" in str(n)]
    return f" ({notes[0]})" if notes else ""


def _file_of(task: Any) -> str | None:
    spec = getattr(getattr(task, "workflow", None), "spec", None)
    file = getattr(spec, "file", None)
    return str(file) if file else None


def _element_of(spec: Any) -> str | None:
    value = getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)
    return str(value) if value else None


def _one_line(exc: BaseException) -> str:
    return _one_line_text(str(exc)) or type(exc).__name__


def _one_line_text(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text[:500]
