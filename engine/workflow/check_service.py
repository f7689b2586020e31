"""``bpmn check`` rule for service tasks: a known operator, exactly its parameters, and a result variable.

The result variable is required: without one the operator's answer (a reservation id, a voucher
number) is lost and every later step that needs it fails at run time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.registry import OPERATORS
from engine.workflow.check_common import NS, element_id, suggest


def check_service_tasks(name: str, root: Any) -> Iterator[str]:
    for task in root.iterfind(".//bpmn:serviceTask", NS):
        where = f"{name}:{element_id(task)}"
        op = task.find(".//spiffworkflow:serviceTaskOperator", NS)
        if op is None:
            yield f"{where}: service task has no spiffworkflow:serviceTaskOperator ({suggest('', OPERATORS)})"
            continue
        spec = OPERATORS.get(op.get("id", ""))
        if spec is None:
            yield f"{where}: unknown operator {op.get('id', '')!r} ({suggest(op.get('id', ''), OPERATORS)})"
            continue
        yield from (f"{where}: {problem}" for problem in _parameters(op, spec))
        if not (op.get("resultVariable") or "").strip():
            yield (f"{where}: operator {spec.name} has no resultVariable: name the variable its result is stored "
                   f"in (budgetflow bpmn operators)")


def _parameters(op: Any, spec: Any) -> Iterator[str]:
    parameters = list(op.iterfind(".//spiffworkflow:parameter", NS))
    given = {p.get("id", "") for p in parameters} - {""}
    if any(not p.get("id") for p in parameters):
        yield f"operator {spec.name} has a parameter without an id"
    for untyped in sorted(p.get("id") for p in parameters if p.get("id") and not p.get("type")):
        yield f"operator {spec.name}: parameter {untyped!r} has no type (type=\"str\")"
    for missing in sorted(set(spec.params) - given):
        yield f"operator {spec.name} needs parameter {missing!r}"
    allowed = set(spec.params) | set(spec.optional)
    for extra in sorted(given - allowed):
        yield f"operator {spec.name} has no parameter {extra!r} ({suggest(extra, allowed)})"
