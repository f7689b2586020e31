"""The diagrams in bpmn/ against the contract in bpmn/README.md.

(a) every .bpmn/.dmn parses with the SpiffWorkflow validator; (b) complete diagram interchange and a clean
layout; (c) user-task forms exist and are object schemas; (d) service tasks name known operators with exactly
their parameters, and catch their error codes. How the DMN routes, and the paths each diagram takes when it
runs, are scenario files beside the diagrams (bpmn/*/scenarios/), run by test_scenarios.py; the in-memory paths
are in test_travel_paths.py and test_claim_paths.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from tests.bpmn_static.harness import (
    BPMN_DIR,
    NS,
    OPERATORS,
    decision_files,
    diagram_files,
    xml,
)

DIAGRAMS = diagram_files()
DIAGRAM_IDS = [p.relative_to(BPMN_DIR).as_posix() for p in DIAGRAMS]
PROCESSES = {"travel_application", "expense_claim", "approval_chain", "travel_application_oa",
             "oa_travel_application", "oa_approval"}
CALLS = {"travel_application": {"approval_chain"}, "expense_claim": {"approval_chain"},
         "travel_application_oa": {"oa_approval"}, "oa_travel_application": set()}
CONTRACT_LANES = {"applicant", "manager", "department_head", "finance_director", "finance", "countersign"}
AUTOMATIC_LANE = "system"
FLOW_NODES = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
              "task", "userTask", "manualTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask",
              "receiveTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
              "inclusiveGateway", "eventBasedGateway")
DECISIONS = {"approve", "reject", "send_back"}


def _nodes(doc: Any, *tags: str) -> list[Any]:
    return [n for tag in tags for n in doc.iterfind(f".//bpmn:{tag}", namespaces=NS)]


def _shapes(doc: Any) -> dict[str, tuple[float, float, float, float]]:
    shapes = {}
    for shape in doc.iterfind(".//bpmndi:BPMNShape", namespaces=NS):
        b = shape.find("dc:Bounds", namespaces=NS)
        shapes[shape.get("bpmnElement")] = tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
    return shapes


def _lane_of(doc: Any) -> dict[str, str]:
    return {ref.text: lane.get("name") for lane in _nodes(doc, "lane")
            for ref in lane.iterfind("bpmn:flowNodeRef", namespaces=NS)}


def _form_properties(task: Any) -> dict[str, str]:
    props = task.find("bpmn:extensionElements/spiffworkflow:properties", namespaces=NS)
    return {} if props is None else {p.get("name"): p.get("value") for p in props}


def _boundaries(doc: Any, host: str) -> list[Any]:
    return [b for b in _nodes(doc, "boundaryEvent") if b.get("attachedToRef") == host]


def _is_approval(path: Path, task: Any) -> bool:
    form = _form_properties(task).get("formJsonSchemaFilename")
    return bool(form) and "decision" in json.loads((path.parent / form).read_text(encoding="utf-8"))["properties"]


# ---- (a) parsing -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", DIAGRAMS + decision_files(), ids=lambda p: p.name)
def test_each_file_parses_with_the_spiff_validator(path):
    parser = SpiffBpmnParser(validator=VALIDATOR)
    if path.suffix == ".dmn":
        parser.add_dmn_files([str(path)])
        assert parser.dmn_parsers
    else:
        parser.add_bpmn_files([str(path)])
        assert parser.get_process_ids()


def test_all_files_parse_together_into_executable_specs():
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_dmn_files([str(p) for p in decision_files()])
    parser.add_bpmn_files([str(p) for p in DIAGRAMS])
    assert set(parser.get_process_ids()) == PROCESSES
    assert set(parser.dmn_parsers) == {"approval_route"}
    for process_id, called in CALLS.items():
        spec = parser.get_spec(process_id)
        assert spec.name == process_id
        assert set(parser.get_subprocess_specs(process_id)) == called


# ---- (b) diagram interchange and layout --------------------------------------------------------------
@pytest.mark.parametrize("path", DIAGRAMS, ids=DIAGRAM_IDS)
def test_every_node_lane_pool_and_flow_has_diagram_interchange(path):
    doc = xml(path)
    shapes = _shapes(doc)
    needed = [n.get("id") for n in _nodes(doc, *FLOW_NODES, "lane", "participant")]
    assert needed and [i for i in needed if i not in shapes] == []
    edges = {e.get("bpmnElement"): [(float(w.get("x")), float(w.get("y"))) for w in e.iterfind("di:waypoint", NS)]
             for e in doc.iterfind(".//bpmndi:BPMNEdge", namespaces=NS)}
    for flow in _nodes(doc, "sequenceFlow"):
        points = edges.get(flow.get("id"))
        assert points and len(points) >= 2, flow.get("id")
        for point, end in ((points[0], flow.get("sourceRef")), (points[-1], flow.get("targetRef"))):
            x, y, w, h = shapes[end]
            assert x - 2 <= point[0] <= x + w + 2 and y - 2 <= point[1] <= y + h + 2, (flow.get("id"), end)


@pytest.mark.parametrize("path", DIAGRAMS, ids=DIAGRAM_IDS)
def test_layout_has_no_overlapping_shapes_and_nodes_sit_in_their_lanes(path):
    doc = xml(path)
    shapes, lane_of = _shapes(doc), _lane_of(doc)
    lanes = {lane.get("name"): shapes[lane.get("id")] for lane in _nodes(doc, "lane")}
    hosts = {b.get("id"): b.get("attachedToRef") for b in _nodes(doc, "boundaryEvent")}
    nodes = [n.get("id") for n in _nodes(doc, *FLOW_NODES)]
    for node in nodes:
        x, y, w, h = shapes[node]
        lx, ly, lw, lh = lanes[lane_of[node]]
        assert lx <= x + w / 2 <= lx + lw and ly <= y + h / 2 <= ly + lh, f"{node} is drawn outside its lane"
    for i, a in enumerate(nodes):
        for b in nodes[i + 1:]:
            if hosts.get(a) == b or hosts.get(b) == a:
                continue
            ax, ay, aw, ah = shapes[a]
            bx, by, bw, bh = shapes[b]
            assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah), f"{a} overlaps {b}"


def test_decisions_have_diagram_interchange():
    for path in decision_files():
        doc = xml(path)
        drawn = {s.get("dmnElementRef") for s in doc.iterfind(".//dmndi:DMNShape", namespaces=NS)}
        decisions = {d.get("id") for d in doc.iterfind(".//dmn:decision", namespaces=NS)}
        assert decisions and decisions <= drawn


@pytest.mark.parametrize("path", DIAGRAMS, ids=DIAGRAM_IDS)
def test_ids_are_meaningful_and_names_bilingual(path):
    doc = xml(path)
    for node in _nodes(doc, *FLOW_NODES):
        assert not re.match(r"^(Activity|Event|Gateway|Flow|Task|StartEvent|EndEvent)_[0-9a-z]{5,}$", node.get("id"))
        name = node.get("name") or ""
        assert re.search(r"[A-Za-z]", name) and re.search(r"[\u4e00-\u9fff]", name), (node.get("id"), name)


@pytest.mark.parametrize("path", DIAGRAMS, ids=DIAGRAM_IDS)
def test_lanes_follow_the_contract(path):
    doc = xml(path)
    lane_of = _lane_of(doc)
    assert {lane.get("name") for lane in _nodes(doc, "lane")} <= CONTRACT_LANES | {AUTOMATIC_LANE}
    for node in _nodes(doc, *FLOW_NODES):
        assert node.get("id") in lane_of, f"{node.get('id')} is in no lane"
    for task in _nodes(doc, "userTask", "manualTask", "task"):
        assert lane_of[task.get("id")] in CONTRACT_LANES, f"{task.get('id')}: people never work in {AUTOMATIC_LANE}"


# ---- (c) forms ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", DIAGRAMS, ids=DIAGRAM_IDS)
def test_user_task_forms_exist_and_are_object_schemas(path):
    doc = xml(path)
    for task in _nodes(doc, "userTask"):
        form = _form_properties(task).get("formJsonSchemaFilename")
        assert form, f"{task.get('id')} has no formJsonSchemaFilename"
        assert form.endswith(".schema.json") and not form.startswith("/")
        schema = json.loads((path.parent / form).read_text(encoding="utf-8"))
        assert schema["type"] == "object" and isinstance(schema["properties"], dict) and schema["properties"]
        assert set(schema.get("required", [])) <= set(schema["properties"])
        if _is_approval(path, task):
            consts = {c["const"] for c in schema["properties"]["decision"]["oneOf"]}
            assert consts == DECISIONS and {"decision", "comment"} <= set(schema["required"])


def test_instructions_are_valid_jinja():
    jinja2 = pytest.importorskip("jinja2")
    for path in DIAGRAMS:
        for text in xml(path).iterfind(".//spiffworkflow:instructionsForEndUser", namespaces=NS):
            jinja2.Environment(autoescape=True).parse(text.text)


# ---- (d) service tasks -------------------------------------------------------------------------------
@pytest.mark.parametrize("path", DIAGRAMS, ids=DIAGRAM_IDS)
def test_service_tasks_use_known_operators_with_exact_parameters(path):
    doc = xml(path)
    for task in _nodes(doc, "serviceTask"):
        op = task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", namespaces=NS)
        assert op is not None, task.get("id")
        contract = OPERATORS.get(op.get("id"))
        assert contract, f"{task.get('id')}: unknown operator {op.get('id')}"
        assert op.get("resultVariable") == contract["result"], task.get("id")
        params = op.findall("spiffworkflow:parameters/spiffworkflow:parameter", namespaces=NS)
        given = {p.get("id") for p in params}
        assert contract["params"] <= given <= contract["params"] | contract.get("optional", set()), task.get("id")
        for p in params:
            assert p.get("type") and p.get("value"), (task.get("id"), p.get("id"))
            compile(p.get("value"), p.get("id"), "eval")


@pytest.mark.parametrize("path", DIAGRAMS, ids=DIAGRAM_IDS)
def test_service_task_error_codes_are_caught_with_their_payload(path):
    doc = xml(path)
    errors = {e.get("id"): e for e in _nodes(doc, "error")}
    for task in _nodes(doc, "serviceTask"):
        op = task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", namespaces=NS)
        caught = set()
        for boundary in _boundaries(doc, task.get("id")):
            ref = boundary.find("bpmn:errorEventDefinition", namespaces=NS)
            if ref is not None:
                error = errors[ref.get("errorRef")]
                assert error.get("errorCode"), "a boundary without a code would catch every error"
                assert error.findtext("bpmn:extensionElements/spiffworkflow:variableName", namespaces=NS)
                caught.add(error.get("errorCode"))
        assert caught == OPERATORS[op.get("id")]["errors"], (task.get("id"), caught)


# ---- approval conventions: reminders, escalation, withdraw ---------------------------------------------
@pytest.mark.parametrize("path", DIAGRAMS, ids=DIAGRAM_IDS)
def test_every_approval_task_has_a_reminder_and_an_sla_escalation(path):
    doc = xml(path)
    approvals = [t for t in _nodes(doc, "userTask") if _is_approval(path, t)]
    for task in approvals:
        timers = [(b.get("cancelActivity", "true"), b.find("bpmn:timerEventDefinition/*", namespaces=NS))
                  for b in _boundaries(doc, task.get("id"))
                  if b.find("bpmn:timerEventDefinition", namespaces=NS) is not None]
        kinds = {(interrupting, re.sub(r"\{.*\}", "", t.tag), t.text) for interrupting, t in timers}
        assert ("false", "timeCycle", "reminder_cycle") in kinds, task.get("id")
        assert ("true", "timeDuration", "sla_duration") in kinds, task.get("id")


def _withdraw_targets(doc: Any) -> set[str]:
    """Hosts of interrupting boundary events that catch the message named 'withdraw'."""
    messages = {m.get("id"): m.get("name") for m in _nodes(doc, "message")}
    hosts = set()
    for boundary in _nodes(doc, "boundaryEvent"):
        definition = boundary.find("bpmn:messageEventDefinition", namespaces=NS)
        if definition is not None and boundary.get("cancelActivity", "true") == "true" \
                and messages.get(definition.get("messageRef")) == "withdraw":
            hosts.add(boundary.get("attachedToRef"))
    return hosts


@pytest.mark.parametrize("path", [p for p in DIAGRAMS if p.stem != "approval_chain"], ids=lambda p: p.name)
def test_approvals_are_withdrawable_by_a_withdraw_message(path):
    # approval_chain is withdrawn from its callers: the boundary sits on their call activity
    doc = xml(path)
    approvals = {c.get("id") for c in _nodes(doc, "callActivity")}
    approvals |= {t.get("id") for t in _nodes(doc, "userTask") if _is_approval(path, t)}
    if path.stem in ("oa_approval", "oa_travel_application"):  # decided in the OA (withdrawn there, or from
        assert not approvals  # the caller's call activity): nothing of budgetflow's own to withdraw
        return
    assert approvals and approvals <= _withdraw_targets(doc)
