"""``budgetflow bpmn operators``: what a diagram's service tasks may name, with their parameters.

The operator registry (connectors/registry.py) is the one source: ``bpmn check`` holds diagrams to
it, and this command shows it to the designer who fills in the service task's properties.
"""

from __future__ import annotations

from typing import Any

from connectors.registry import OPERATORS, OperatorSpec
from engine.cli.i18n import _
from engine.cli.output import emit_json, json_option, say
from engine.cli.workflow import bpmn


def operator_reference(spec: OperatorSpec) -> dict[str, Any]:
    """One operator as ``bpmn operators --json`` shows it."""
    return {
        "name": spec.name,
        "description": spec.summary,
        "parameters": [{"name": p, "required": p in spec.params, "description": spec.describe(p)}
                       for p in (*spec.params, *spec.optional)],
        "result_variable": {"required": True, "holds": spec.result},
        "error_codes": list(spec.errors),
        "runs_in": spec.runs_in,
        "waits": spec.waits,
    }


@bpmn.command("operators", examples=("budgetflow bpmn operators", "budgetflow bpmn operators --json"))
@json_option
def operators_command(as_json: bool) -> int:
    """List the operators a service task may name, with parameters, result and error codes.

    A service task names one in spiffworkflow:serviceTaskOperator id="...", passes every required
    parameter (each value a Python expression over task data) and names a resultVariable.
    """
    found = [operator_reference(OPERATORS[name]) for name in sorted(OPERATORS)]
    if as_json:
        emit_json({"operators": found})
        return 0
    for operator in found:
        _show(operator)
    return 0


def _show(operator: dict[str, Any]) -> None:
    runs = _("runs in the engine, in the instance's transaction") if operator["runs_in"] == "engine" else (
        _("runs through the outbox; the flow waits for its answer") if operator["waits"]
        else _("runs through the outbox; the flow does not wait"))
    say(f"{operator['name']}  {operator['description']}")
    say(f"  {runs}")
    for parameter in operator["parameters"]:
        need = _("required") if parameter["required"] else _("optional")
        say(f"  {parameter['name']:<15} {need:<9} {parameter['description']}")
    say("  " + _("resultVariable holds: {holds}").format(holds=operator["result_variable"]["holds"] or "-"))
    codes = ", ".join(operator["error_codes"]) or "-"
    say("  " + _("error codes (catch with an error boundary event): {codes}").format(codes=codes))
    say()

