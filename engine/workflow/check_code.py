"""Publish-time compilation of every piece of diagram code, under the policy it will run with.

``bpmn check`` and ``bpmn deploy`` call this (through ``check.py``): every script task script,
pre/post script, sequence-flow and conditional-event condition, timer expression, service-task
parameter, multi-instance cardinality and completion condition, loop condition, message payload
and correlation expression, and every DMN input expression and cell is compiled by the same
sandbox compiler the engine uses at run time (``compile_code``). A refusal becomes a
``file:element-id: message`` line, so a diagram that would fail at run time is not published.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

from lxml import etree

from engine.workflow.scripts.errors import ScriptError, ScriptSyntaxError
from engine.workflow.scripts.limits import SandboxLimits
from engine.workflow.scripts.sandbox import compile_code

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}
# (XPath, what to call it, kind): the elements whose text SpiffWorkflow evaluates or executes.
_BPMN_CODE = [
    (".//bpmn:scriptTask/bpmn:script", "script", "script"),
    (".//spiffworkflow:preScript", "preScript", "script"),
    (".//spiffworkflow:postScript", "postScript", "script"),
    (".//bpmn:conditionExpression", "condition", "expression"),
    (".//bpmn:conditionalEventDefinition/bpmn:condition", "condition", "expression"),
    (".//bpmn:timerEventDefinition/*", "timer expression", "expression"),
    (".//bpmn:loopCardinality", "cardinality", "expression"),
    (".//bpmn:completionCondition", "completion condition", "expression"),
    (".//bpmn:loopCondition", "loop condition", "expression"),
    (".//spiffworkflow:messagePayload", "message payload", "expression"),
    (".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression", "correlation expression", "expression"),
]
# Elements that hold code but are not what a designer selects in the modeller: name their owner.
_NOT_OWNERS = {"timerEventDefinition", "conditionalEventDefinition", "messageEventDefinition", "extensionElements",
               "multiInstanceLoopCharacteristics", "standardLoopCharacteristics", "serviceTaskOperator",
               "parameters", "parameter", "correlationPropertyRetrievalExpression"}
_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")  # outside quotes, as SpiffWorkflow does
_LIMITS = SandboxLimits()


def refusal(source: str, kind: str) -> ScriptError | None:
    """The error the sandbox compiler raises for ``source``, or None if it would run."""
    try:
        compile_code(source, kind, _LIMITS)
    except ScriptError as err:
        return err
    return None


def _owner(element: Any) -> str:
    node = element.getparent()
    while node is not None:
        local = etree.QName(node).localname
        if node.get("id") and local not in _NOT_OWNERS:
            return str(node.get("id"))
        node = node.getparent()
    return "-"


def check_bpmn_code(name: str, root: Any) -> Iterator[str]:
    """``file:element-id: message`` for each piece of BPMN code the sandbox would refuse."""
    for path, label, kind in _BPMN_CODE:
        for element in root.iterfind(path, NS):
            yield from _report(name, _owner(element), label, element.text or "", kind)
    for parameter in root.iterfind(".//spiffworkflow:parameter", NS):
        label = f"parameter {parameter.get('id')!r}"
        yield from _report(name, _owner(parameter), label, parameter.get("value") or "", "expression")


def _report(name: str, owner: str, label: str, source: str, kind: str) -> Iterator[str]:
    if not source.strip():
        return
    error = refusal(source, kind)
    if error is not None:
        yield f"{name}:{owner}: {label} is refused: {error}"


def check_dmn_code(name: str, root: Any) -> Iterator[str]:
    """Input expressions, output cells, and input cells as SpiffWorkflow's DMN engine combines them."""
    ns = {"dmn": root.nsmap.get(None) or "https://www.omg.org/spec/DMN/20191111/MODEL/"}
    for table in root.iterfind(".//dmn:decisionTable", ns):
        inputs = []
        for element in table.iterfind("dmn:input", ns):
            expression = element.find("dmn:inputExpression", ns)
            text = (expression.findtext("dmn:text", default="", namespaces=ns) if expression is not None else "")
            owner = (expression.get("id") if expression is not None else None) or element.get("id") or "-"
            yield from _report(name, owner, "input expression", text, "expression")
            inputs.append(text.strip())
        for rule in table.iterfind("dmn:rule", ns):
            for cell, input_expression in zip(rule.findall("dmn:inputEntry", ns), inputs, strict=False):
                yield from _input_cell(name, cell, input_expression, ns)
            for cell in rule.findall("dmn:outputEntry", ns):
                text = cell.findtext("dmn:text", default="", namespaces=ns) or ""
                yield from _report(name, cell.get("id") or "-", f"cell {text.strip()!r}", text, "expression")


def _input_cell(name: str, cell: Any, input_expression: str, ns: dict[str, str]) -> Iterator[str]:
    text = (cell.findtext("dmn:text", default="", namespaces=ns) or "").strip()
    if not text or text == "-":
        return
    error = refusal(_dmn_match_expression(input_expression, text), "expression")
    if isinstance(error, ScriptSyntaxError):
        yield f"{name}:{cell.get('id')}: cell {text!r} is not a valid expression"
    elif error is not None:
        yield f"{name}:{cell.get('id')}: cell {text!r} is refused: {error}"


def _dmn_match_expression(input_expression: str, cell: str) -> str:
    """The expression SpiffWorkflow's DMNEngine.evaluate builds from an input cell.

    A column without an input expression is reported once, by the DMN structure rule; its cells are
    judged against a stand-in, so ``< 25`` is not called invalid for what its column lacks.
    """
    input_expression = input_expression or "dmninputexpr"
    if _QUESTION_MARK.search(cell):
        return _QUESTION_MARK.sub("dmninputexpr", cell)
    try:
        ast.parse(cell)
    except SyntaxError:
        return f"{input_expression}{cell}"  # an operator and a value: '> 20000'
    return f"({input_expression}) == ({cell})"  # a value: DMN compares with ==
