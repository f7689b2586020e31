"""``budgetflow bpmn check``: what a process designer gets wrong, as ``file:element-id: message`` lines.

Rules: the diagrams parse (schema included); every service task names a known
operator with exactly its declared parameters; every lane maps to a role; every
form a user task names exists and is a strict, bounded schema that leaves what the
engine sets alone (``check_forms.py``); a ``notify`` property sits on a user task and
says ``on_open``; every timer expression is a valid ISO 8601 duration, date-time or
cycle; every DMN table parses; every script, condition and other piece of diagram
code compiles under the sandbox policy (``check_code.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath

from lxml import etree

from connectors.registry import OPERATORS
from engine.domain.lanes import LANES
from engine.workflow.bundle import parse
from engine.workflow.check_code import check_bpmn_code, check_dmn_code
from engine.workflow.check_forms import check_forms
from engine.workflow.errors import BundleInvalid
from engine.workflow.runtime import NOTIFY_PROPERTY, NOTIFY_VALUES

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_CYCLE = re.compile(r"^R\d*/(.+)$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
EXTRA_LANES = ("system",)  # lanes for machine steps: nobody is asked to act in them


def check(files: Mapping[str, str]) -> list[str]:
    problems: list[str] = []
    for name, text in sorted(files.items()):
        if name.endswith(".bpmn"):
            problems.extend(_check_bpmn(name, text, files))
        elif name.endswith(".dmn"):
            problems.extend(_check_dmn(name, text))
    problems.extend(check_forms(files))
    try:
        parse(files)
    except BundleInvalid as exc:
        problems.extend(p for p in exc.problems if p not in problems)
    return problems


def _check_bpmn(name: str, text: str, files: Mapping[str, str]) -> Iterator[str]:
    try:
        root = etree.fromstring(text.encode("utf-8"))
    except etree.XMLSyntaxError as exc:
        yield f"{name}:-: not well-formed XML: {exc}"
        return
    yield from _operators(name, root)
    yield from _lanes(name, root)
    yield from _forms(name, root, files)
    yield from _notify(name, root)
    yield from _timers(name, root)
    yield from check_bpmn_code(name, root)


def _operators(name: str, root: etree._Element) -> Iterator[str]:
    for task in root.iterfind(".//bpmn:serviceTask", NS):
        op = task.find(".//spiffworkflow:serviceTaskOperator", NS)
        if op is None:
            yield f"{name}:{task.get('id')}: service task has no spiffworkflow:serviceTaskOperator"
            continue
        spec = OPERATORS.get(op.get("id", ""))
        if spec is None:
            yield f"{name}:{task.get('id')}: unknown operator {op.get('id')!r}"
            continue
        parameters = list(op.iterfind(".//spiffworkflow:parameter", NS))
        given = {p.get("id", "") for p in parameters} - {""}
        if any(not p.get("id") for p in parameters):
            yield f"{name}:{task.get('id')}: operator {spec.name} has a parameter without an id"
        for missing in sorted(set(spec.params) - given):
            yield f"{name}:{task.get('id')}: operator {spec.name} needs parameter {missing!r}"
        for extra in sorted(given - set(spec.params) - set(spec.optional)):
            yield f"{name}:{task.get('id')}: operator {spec.name} has no parameter {extra!r}"


def _lanes(name: str, root: etree._Element) -> Iterator[str]:
    for lane in root.iterfind(".//bpmn:lane", NS):
        if lane.get("name") not in LANES + EXTRA_LANES:
            yield (f"{name}:{lane.get('id')}: lane {lane.get('name')!r} maps to no role "
                   f"(known: {', '.join(LANES + EXTRA_LANES)})")


def _forms(name: str, root: etree._Element, files: Mapping[str, str]) -> Iterator[str]:
    folder = PurePosixPath(name).parent
    for task in root.iterfind(".//bpmn:userTask", NS):
        for prop in task.iterfind(".//spiffworkflow:property", NS):
            if prop.get("name") == "formJsonSchemaFilename":
                form = prop.get("value", "")
                candidates = {str(folder / form), str(folder / "forms" / form), form}
                if not candidates & set(files):
                    yield f"{name}:{task.get('id')}: form file {form!r} not found beside the diagram"


def _notify(name: str, root: etree._Element) -> Iterator[str]:
    """The ``notify`` property: a misspelt value would silently notify nobody, so it is refused here."""
    for prop in root.iterfind(f".//spiffworkflow:property[@name='{NOTIFY_PROPERTY}']", NS):
        element = next((a for a in prop.iterancestors(f"{{{NS['bpmn']}}}*")
                        if etree.QName(a).localname != "extensionElements"), None)
        where = element.get("id") if element is not None else "-"
        if element is None or etree.QName(element).localname != "userTask":
            yield f"{name}:{where}: property {NOTIFY_PROPERTY!r} belongs on a user task (it notifies its approvers)"
        elif prop.get("value") not in NOTIFY_VALUES:
            yield (f"{name}:{where}: property {NOTIFY_PROPERTY!r} is {prop.get('value')!r}; "
                   f"known: {', '.join(NOTIFY_VALUES)}")


def _timers(name: str, root: etree._Element) -> Iterator[str]:
    for timer in root.iterfind(".//bpmn:timerEventDefinition", NS):
        event = timer.getparent()
        event_id = event.get("id") if event is not None else "-"
        for child in timer:
            expression = (child.text or "").strip()
            literal = expression[1:-1] if expression[:1] in "'\"" and expression[-1:] == expression[:1] else None
            if literal is None:
                continue  # an expression over task data: checked when it runs
            if not _valid_timer(literal):
                yield f"{name}:{event_id}: timer {expression} is not an ISO 8601 duration, date-time or cycle"


DMN_NS = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}


def _check_dmn(name: str, text: str) -> Iterator[str]:
    """Rules with the wrong number of cells (the parser lets them through), and code the sandbox refuses."""
    try:
        root = etree.fromstring(text.encode("utf-8"))
    except etree.XMLSyntaxError:
        return  # reported by the parse step
    ns = {"dmn": root.nsmap.get(None) or DMN_NS["dmn"]}
    for table in root.iterfind(".//dmn:decisionTable", ns):
        inputs, outputs = len(table.findall("dmn:input", ns)), len(table.findall("dmn:output", ns))
        for rule in table.iterfind("dmn:rule", ns):
            entries = rule.findall("dmn:inputEntry", ns), rule.findall("dmn:outputEntry", ns)
            if (len(entries[0]), len(entries[1])) != (inputs, outputs):
                yield (f"{name}:{rule.get('id')}: rule has {len(entries[0])} input and {len(entries[1])} output "
                       f"cells; the table has {inputs} inputs and {outputs} outputs")
    yield from check_dmn_code(name, root)


def _valid_timer(value: str) -> bool:
    cycle = _CYCLE.match(value)
    value = cycle.group(1) if cycle else value
    return bool(_DURATION.match(value) or _DATETIME.match(value))
