"""``bpmn check`` rule for timers: every value a timer can take that is known before it runs.

A quoted literal in the timer itself is checked, and so is a bare variable name when a script of
the bundle assigns that variable a string literal (``reminder_cycle = 'R3/PT24H'`` in a policy
script): each such literal is parsed the way SpiffWorkflow parses it when the timer starts. Values
computed at run time are left to the run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.workflow.check_common import NS, element_id, literal_string, one_line

_SCRIPTS = (".//bpmn:scriptTask/bpmn:script", ".//spiffworkflow:preScript", ".//spiffworkflow:postScript")
_KINDS = {"timeDate": "a date-time", "timeDuration": "an ISO 8601 duration",
          "timeCycle": "an ISO 8601 cycle (R3/PT24H)"}

Assignment = tuple[str, str, str]  # (file, element id, value)


def script_literals(trees: Mapping[str, Any]) -> dict[str, list[Assignment]]:
    """Variable -> every string literal a script of the bundle assigns it."""
    found: dict[str, list[Assignment]] = {}
    for name, root in sorted(trees.items()):
        for path in _SCRIPTS:
            for script in root.iterfind(path, NS):
                owner = element_id(script.getparent() if local_is(script, "script") else _owner(script))
                for variable, value in _assignments(script.text or ""):
                    found.setdefault(variable, []).append((name, owner, value))
    return found


def local_is(element: Any, tag: str) -> bool:
    return isinstance(element.tag, str) and element.tag.endswith("}" + tag)


def _owner(element: Any) -> Any:
    node = element.getparent()
    while node is not None and (not node.get("id") or local_is(node, "extensionElements")):
        node = node.getparent()
    return node


def _assignments(source: str) -> Iterator[tuple[str, str]]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return  # the code rule reports it
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) and node.value is not None else []
        value = getattr(node, "value", None)
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            for target in targets:
                if isinstance(target, ast.Name):
                    yield target.id, value.value


def check_timers(name: str, root: Any, literals: Mapping[str, list[Assignment]]) -> Iterator[str]:
    for timer in root.iterfind(".//bpmn:timerEventDefinition", NS):
        where = f"{name}:{element_id(timer.getparent())}"
        for child in timer:
            kind = child.tag.rpartition("}")[2] if isinstance(child.tag, str) else ""
            if kind not in _KINDS:
                continue
            expression = (child.text or "").strip()
            value = literal_string(expression)
            if value is not None:
                if not valid_timer(kind, value):
                    yield f"{where}: timer {one_line(expression)} is not {_KINDS[kind]}"
                continue
            if expression.isidentifier():
                for file, owner, assigned in literals.get(expression, []):
                    if assigned and not valid_timer(kind, assigned):
                        yield (f"{where}: timer {expression} can be {assigned!r} (set by {owner} in {file}), "
                               f"which is not {_KINDS[kind]}")


def valid_timer(kind: str, value: str) -> bool:
    """Whether SpiffWorkflow's own parser accepts ``value`` for a timer of ``kind``."""
    parse = {"timeCycle": TimerEventDefinition.parse_iso_recurring_interval,
             "timeDuration": TimerEventDefinition.parse_time_or_duration,
             "timeDate": TimerEventDefinition.parse_time_or_duration}[kind]
    try:
        parse(value)
    except Exception:  # noqa: BLE001 -- any refusal of the parser is the answer
        return False
    return True
