"""The diagrams in bpmn/ against the contract in bpmn/README.md.

(a) every .bpmn/.dmn parses with the SpiffWorkflow validator; (b) complete diagram interchange and a clean
layout; (c) user-task forms exist and are object schemas; (d) service tasks name known operators with exactly
their parameters, and catch their error codes; (e) the DMN routes as specified; (f) each diagram runs end to end
in memory for every path, saved to JSON and restored at every wait state, under SpiffWorkflow's default script
environment and under the RestrictedPython one the engine uses (spiffworkflow.md §15).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from tests.bpmn_static.harness import (
    BPMN_DIR,
    NS,
    OPERATORS,
    Run,
    Stub,
    StubScriptEngine,
    decision_files,
    diagram_files,
    xml,
)

DIAGRAMS = diagram_files()
DIAGRAM_IDS = [p.relative_to(BPMN_DIR).as_posix() for p in DIAGRAMS]
PROCESSES = {"travel_application", "expense_claim", "approval_chain"}
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
    for process_id in ("travel_application", "expense_claim"):
        spec = parser.get_spec(process_id)
        assert spec.name == process_id
        assert set(parser.get_subprocess_specs(process_id)) == {"approval_chain"}


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
        assert sorted(p.get("id") for p in params) == sorted(contract["params"]), task.get("id")
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
    assert approvals and approvals <= _withdraw_targets(doc)


# ---- (e) the DMN ---------------------------------------------------------------------------------------
ROUTE_PROBE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="probe" targetNamespace="probe">
  <bpmn:process id="route_probe" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="decide_route">
      <bpmn:extensionElements><spiffworkflow:calledDecisionId>approval_route</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide_route" />
    <bpmn:sequenceFlow id="f2" sourceRef="decide_route" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""

ROUTES = [  # subject, amount, (department head, finance director, countersign)
    ("TRAVEL", "0.01", (False, False, False)),
    ("TRAVEL", "5000.00", (False, False, False)),
    ("TRAVEL", "5000.01", (True, False, False)),
    ("HOTEL", "20000.00", (True, False, False)),
    ("OFFICE", "20000.01", (True, True, False)),
    ("TRAVEL", "10000.01", (True, False, False)),
    ("ENTERTAINMENT", "4800.00", (False, False, False)),
    ("ENTERTAINMENT", "10000.00", (True, False, False)),
    ("ENTERTAINMENT", "10000.01", (True, False, True)),
    ("ENTERTAINMENT", "20000.00", (True, False, True)),
    ("ENTERTAINMENT", "20000.01", (True, True, True)),
    ("VEHICLE", "999999.99", (True, True, False)),
]


@pytest.mark.parametrize(("subject", "amount", "expected"), ROUTES)
def test_approval_route_decision(subject, amount, expected):
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_dmn_files([str(p) for p in decision_files()])
    parser.add_bpmn_str(ROUTE_PROBE.encode())
    wf = BpmnWorkflow(parser.get_spec("route_probe"), script_engine=StubScriptEngine(Stub()))
    wf.task_tree.data.update(subject=subject, amount_value=Decimal(amount))
    wf.do_engine_steps()
    assert wf.is_completed()
    got = (wf.data["need_department_head"], wf.data["need_finance_director"], wf.data["countersign"])
    assert got == expected


# ---- (f) running the diagrams ----------------------------------------------------------------------------
@pytest.fixture(params=["default", "restricted"])
def restricted(request):
    return request.param == "restricted"


APPLICATION = {"applicant": "E0101", "org_unit": "SALES-N", "document_no": "TA-2026-0001", "currency": "CNY",
               "period": "2026"}
COUNTERSIGNERS = ["E0201", "E0202", "E0203"]


def travel(restricted: bool, stub: Stub | None = None, **form: Any) -> Run:
    run = Run("travel_application", {**APPLICATION, "countersigners": COUNTERSIGNERS}, stub, restricted)
    assert run.inbox() == [("fill_application", "applicant", None)]
    run.complete("fill_application", **{"subject": "TRAVEL", "purpose": "Customer visit 客户拜访", **form})
    return run


def assert_json_safe(data: dict[str, Any]) -> None:
    json.dumps({k: v for k, v in data.items() if k != "amount_value"})  # amount_value is the one Decimal
    assert isinstance(data.get("amount_value", Decimal(0)), Decimal)


def test_travel_small_amount_needs_the_manager_only(restricted):
    run = travel(restricted, amount="1280.50")
    assert run.inbox() == [("approve_by_manager", "manager", None)]
    run.decide("approve_by_manager", "approve")
    assert run.data["outcome"] == "approved"
    assert run.seen == ["fill_application", "approve_by_manager"]
    assert run.stub.called("budget/Reserve")[0]["amount"] == "1280.50"
    assert run.stub.templates() == ["travel_application_approved"]
    assert run.stub.called("budget/Release") == []
    assert_json_safe(run.data)
    assert run.restores >= 3


def test_travel_above_5000_adds_the_department_head(restricted):
    run = travel(restricted, amount="8000.00")
    run.decide("approve_by_manager", "approve")
    assert run.inbox() == [("approve_by_department_head", "department_head", None)]
    run.decide("approve_by_department_head", "approve")
    assert run.data["outcome"] == "approved"
    assert run.seen == ["fill_application", "approve_by_manager", "approve_by_department_head"]


def test_travel_above_20000_adds_the_finance_director(restricted):
    run = travel(restricted, amount="25000.00")
    for level in ("approve_by_manager", "approve_by_department_head", "approve_by_finance_director"):
        run.decide(level, "approve")
    assert run.data["outcome"] == "approved"
    assert run.seen[1:] == ["approve_by_manager", "approve_by_department_head", "approve_by_finance_director"]


def test_countersign_all_agree(restricted):
    run = travel(restricted, subject="ENTERTAINMENT", amount="12000.00")
    run.decide("approve_by_manager", "approve")
    run.decide("approve_by_department_head", "approve")
    assert run.inbox() == [("countersign", "countersign", c) for c in COUNTERSIGNERS]
    for approver in reversed(COUNTERSIGNERS):  # completion order must not matter
        run.decide("countersign", "approve", approver=approver)
    assert run.data["outcome"] == "approved"
    votes = {v["approver"]: v["decision"] for v in run.data["countersign_votes"]}
    assert votes == dict.fromkeys(COUNTERSIGNERS, "approve")


def test_countersign_one_veto_rejects(restricted):
    run = travel(restricted, subject="ENTERTAINMENT", amount="12000.00")
    run.decide("approve_by_manager", "approve")
    run.decide("approve_by_department_head", "approve")
    run.decide("countersign", "approve", approver="E0203")
    run.decide("countersign", "reject", "Not a customer event 非客户活动", approver="E0201")
    assert run.inbox() == []  # E0202's task is cancelled
    assert run.data["outcome"] == "rejected"
    assert run.data["reject_reason"] == "Not a customer event 非客户活动"
    assert run.stub.called("budget/Release")[0]["reason"] == "rejected"
    assert run.stub.templates() == ["travel_application_rejected"]


def test_reject_ends_and_releases_the_reservation(restricted):
    run = travel(restricted, amount="8000.00")
    run.decide("approve_by_manager", "approve")
    run.decide("approve_by_department_head", "reject", "No budget this quarter 本季度不安排")
    assert run.data["outcome"] == "rejected"
    assert run.data["reject_reason"] == "No budget this quarter 本季度不安排"
    assert run.stub.called("budget/Release") == [
        {"document_no": "TA-2026-0001", "reservation_id": "RSV-TA-2026-0001", "reason": "rejected"}]


def test_send_back_keeps_the_form_and_resubmits(restricted):
    run = travel(restricted, amount="8000.00", destination="Shanghai 上海")
    run.decide("approve_by_manager", "send_back", "Split hotel and train 请拆分住宿与车票")
    assert run.inbox() == [("fill_application", "applicant", None)]
    form = run.task("fill_application").data
    assert (form["purpose"], form["destination"], form["amount"]) == ("Customer visit 客户拜访", "Shanghai 上海",
                                                                      "8000.00")
    assert form["comment"] == "Split hotel and train 请拆分住宿与车票"
    assert run.stub.called("budget/Release")[0]["reason"] == "send_back"
    run.complete("fill_application", amount="4500.00")
    assert run.inbox() == [("approve_by_manager", "manager", None)]  # 4500 needs the manager only now
    run.decide("approve_by_manager", "approve")
    assert run.data["outcome"] == "approved"
    assert [c["amount"] for c in run.stub.called("budget/Reserve")] == ["8000.00", "4500.00"]
    assert run.stub.templates() == ["travel_application_sent_back", "travel_application_approved"]


def test_withdraw_while_pending_releases_the_reservation(restricted):
    run = travel(restricted, amount="8000.00")
    run.decide("approve_by_manager", "approve")
    run.send("withdraw", reason="Trip cancelled 行程取消")
    assert run.inbox() == [] and run.waiting_timers() == []
    assert run.data["outcome"] == "withdrawn"
    assert run.data["withdraw_request"] == {"reason": "Trip cancelled 行程取消"}
    assert run.stub.called("budget/Release")[0]["reason"] == "withdrawn"
    assert run.stub.templates() == ["travel_application_withdrawn"]


def test_withdraw_during_countersign(restricted):
    run = travel(restricted, subject="ENTERTAINMENT", amount="12000.00")
    run.decide("approve_by_manager", "approve")
    run.decide("approve_by_department_head", "approve")
    run.decide("countersign", "approve", approver="E0202")
    run.send("withdraw")
    assert run.data["outcome"] == "withdrawn" and run.inbox() == []


def test_budget_forbid_stops_and_tells_the_applicant(restricted):
    stub = Stub()
    stub.fail("budget/Reserve", "BUDGET_INSUFFICIENT", "TRAVEL 2026 SALES-N: 300.00 left, 8000.00 asked")
    run = travel(restricted, stub, amount="8000.00")
    assert run.data["outcome"] == "budget_refused"
    assert run.data["refuse_reason"] == "TRAVEL 2026 SALES-N: 300.00 left, 8000.00 asked"
    assert run.data["budget_error"]["code"] == "BUDGET_INSUFFICIENT"
    assert run.seen == ["fill_application"]
    assert run.stub.templates() == ["travel_application_budget_refused"]


def test_budget_warn_flag_is_shown_to_approvers(restricted):
    stub = Stub()
    stub.answer("budget/Reserve", over_budget=True, available_after="-500.00")
    run = travel(restricted, stub, amount="8000.00")
    assert run.task("approve_by_manager").data["budget_warning"] is True
    run.decide("approve_by_manager", "approve")
    assert run.task("approve_by_department_head").data["budget_warning"] is True
    run.decide("approve_by_department_head", "approve")
    assert run.data["outcome"] == "approved"


def test_reminder_notifies_and_keeps_the_task(restricted):
    run = travel(restricted, amount="1280.50")
    assert run.waiting_timers() == ["escalate_manager", "remind_manager"]
    run.fire_timer("remind_manager")
    run.fire_timer("remind_manager")
    assert run.inbox() == [("approve_by_manager", "manager", None)]
    assert run.stub.called("notify/Send")[0] == {"to": "lane:manager", "template": "approval_reminder",
                                                 "document_no": "TA-2026-0001"}
    run.decide("approve_by_manager", "approve")
    assert run.data["outcome"] == "approved" and run.waiting_timers() == []
    assert run.stub.templates() == ["approval_reminder", "approval_reminder", "travel_application_approved"]


def test_manager_sla_escalates_to_the_department_head(restricted):
    run = travel(restricted, amount="1280.50")  # small: normally the manager alone
    run.fire_timer("escalate_manager")
    assert run.inbox() == [("approve_by_department_head", "department_head", None)]
    run.fire_timer("escalate_department_head")
    assert run.inbox() == [("approve_by_finance_director", "finance_director", None)]
    run.decide("approve_by_finance_director", "approve")
    assert run.data["outcome"] == "approved"


def test_finance_director_sla_alerts_admin_and_reopens(restricted):
    run = travel(restricted, amount="25000.00")
    run.decide("approve_by_manager", "approve")
    run.decide("approve_by_department_head", "approve")
    first = run.task("approve_by_finance_director").id
    run.fire_timer("overdue_finance_director")
    assert run.stub.called("notify/Send")[-1]["to"] == "role:admin"
    assert run.task("approve_by_finance_director").id != first
    run.decide("approve_by_finance_director", "approve")
    assert run.data["outcome"] == "approved"


def test_countersign_sla_lets_the_finance_director_decide(restricted):
    run = travel(restricted, subject="ENTERTAINMENT", amount="12000.00")
    run.decide("approve_by_manager", "approve")
    run.decide("approve_by_department_head", "approve")
    run.decide("countersign", "approve", approver="E0201")
    run.fire_timer("escalate_countersign")
    assert run.inbox() == [("approve_by_finance_director", "finance_director", None)]
    run.decide("approve_by_finance_director", "approve")
    assert run.data["outcome"] == "approved"  # no second countersign round


@pytest.mark.parametrize("countersigners", [[], None], ids=["empty", "missing"])
def test_countersign_with_nobody_named_goes_to_the_finance_director(restricted, countersigners):
    data = {**APPLICATION, **({} if countersigners is None else {"countersigners": countersigners})}
    run = Run("travel_application", data, restricted=restricted)
    run.complete("fill_application", subject="ENTERTAINMENT", purpose="Dealer dinner 经销商宴请", amount="12000.00")
    run.decide("approve_by_manager", "approve")
    run.decide("approve_by_department_head", "approve")
    assert run.inbox() == [("approve_by_finance_director", "finance_director", None)]
    run.decide("approve_by_finance_director", "approve")
    assert run.data["outcome"] == "approved" and "countersign" not in run.seen


REMINDER_LEVELS = [  # amount that reaches the task, the task, its reminder timer, its lane
    ("1280.50", "approve_by_manager", "remind_manager", "manager"),
    ("8000.00", "approve_by_department_head", "remind_department_head", "department_head"),
    ("25000.00", "approve_by_finance_director", "remind_finance_director", "finance_director"),
    ("12000.00", "countersign", "remind_countersign", "countersign"),
]


@pytest.mark.parametrize(("amount", "task", "timer", "lane"), REMINDER_LEVELS, ids=[r[1] for r in REMINDER_LEVELS])
def test_every_level_reminds_its_lane(restricted, amount, task, timer, lane):
    run = travel(restricted, amount=amount, subject="ENTERTAINMENT" if task == "countersign" else "TRAVEL")
    while task not in {t for t, _lane, _a in run.inbox()}:
        run.decide(run.inbox()[0][0], "approve")
    before = run.inbox()
    run.fire_timer(timer)
    assert run.inbox() == before
    assert run.stub.called("notify/Send")[-1] == {"to": f"lane:{lane}", "template": "approval_reminder",
                                                  "document_no": "TA-2026-0001"}


def test_lane_owners_and_initial_data_pass_through(restricted):
    run = Run("travel_application", {**APPLICATION, "lane_owners": {"manager": ["E0009"]}}, restricted=restricted)
    run.complete("fill_application", subject="TRAVEL", purpose="x", amount="100.00")
    assert run.task("approve_by_manager").data["lane_owners"] == {"manager": ["E0009"]}


# ---- expense claim -------------------------------------------------------------------------------------
CLAIM = {"applicant": "E0101", "org_unit": "SALES-N", "document_no": "EC-2026-0001", "currency": "CNY",
         "period": "2026"}
LINES = [
    {"subject": "HOTEL", "amount": "1280.50", "tax": "72.48", "invoice_code": "031002300111",
     "invoice_number": "12345678"},
    {"subject": "TRAVEL", "amount": "553.00", "tax": "45.66", "invoice_code": "", "invoice_number": "E00012"},
]
LINKED = {"application_no": "TA-2026-0001", "reservation_id": "RSV-TA-2026-0001"}


def claim(restricted: bool, stub: Stub | None = None, linked: bool = False, lines: list | None = None,
          **form: Any) -> Run:
    run = Run("expense_claim", {**CLAIM, **(LINKED if linked else {})}, stub, restricted)
    run.complete("fill_claim", **{"subject": "TRAVEL", "purpose": "Shanghai trip 上海出差",
                                  "lines": lines or LINES, **form})
    return run


def test_standalone_claim_reserves_writes_off_and_posts(restricted):
    run = claim(restricted)
    assert run.inbox() == [("approve_by_manager", "manager", None)]
    assert run.task("approve_by_manager").data["total"] == "1833.50"
    run.decide("approve_by_manager", "approve")
    assert run.data["outcome"] == "posted"
    assert run.data["voucher"] == {"voucher_no": "V-EC-2026-0001"}
    assert run.stub.called("budget/ReserveClaim")[0]["amount"] == "1833.50"
    assert run.stub.called("budget/WriteOff") == [{"document_no": "EC-2026-0001",
                                                   "reservation_id": "RSV-EC-2026-0001", "amount": "1833.50",
                                                   "currency": "CNY", "close": True}]
    assert run.stub.called("erp/PostVoucher")[0]["total"] == "1833.50"
    assert [op for op, _ in run.stub.calls] == ["claims/CheckInvoices", "budget/ReserveClaim", "budget/WriteOff",
                                                "erp/PostVoucher", "notify/Send"]
    assert run.stub.templates() == ["expense_claim_posted"]
    assert_json_safe(run.data)


def test_linked_claim_uses_the_application_reservation(restricted):
    run = claim(restricted, linked=True)
    run.decide("approve_by_manager", "approve")
    assert run.data["outcome"] == "posted"
    assert run.stub.called("budget/ReserveClaim") == []
    assert run.stub.called("budget/CheckOverrun")[0]["reservation_id"] == "RSV-TA-2026-0001"
    assert run.stub.called("budget/WriteOff")[0]["reservation_id"] == "RSV-TA-2026-0001"
    assert "approve_overrun" not in run.seen


def test_linked_claim_overrun_within_tolerance_needs_finance(restricted):
    stub = Stub()
    stub.answer("budget/CheckOverrun", overrun=True, excess="83.50", within_tolerance=True)
    run = claim(restricted, stub, linked=True)
    run.decide("approve_by_manager", "approve")
    assert run.inbox() == [("approve_overrun", "finance", None)]
    assert run.task("approve_overrun").data["overrun_check"]["excess"] == "83.50"
    run.decide("approve_overrun", "approve")
    assert run.data["outcome"] == "posted"


def test_overrun_rejected_by_finance_leaves_the_application_reservation(restricted):
    stub = Stub()
    stub.answer("budget/CheckOverrun", overrun=True, excess="83.50", within_tolerance=True)
    run = claim(restricted, stub, linked=True)
    run.decide("approve_by_manager", "approve")
    run.decide("approve_overrun", "reject", "Hotel above standard 超标准住宿")
    assert run.data["outcome"] == "rejected" and run.data["reject_reason"] == "Hotel above standard 超标准住宿"
    assert run.stub.called("budget/Release") == []  # the application's reservation is not the claim's to free
    assert run.stub.templates() == ["expense_claim_rejected"]


def test_overrun_sent_back_and_withdrawn(restricted):
    stub = Stub()
    stub.answer("budget/CheckOverrun", overrun=True, excess="83.50", within_tolerance=True)
    run = claim(restricted, stub, linked=True)
    run.decide("approve_by_manager", "approve")
    run.fire_timer("remind_overrun")
    run.fire_timer("overdue_overrun")
    assert run.stub.templates() == ["approval_reminder", "approval_overdue"]
    run.decide("approve_overrun", "send_back", "Attach the hotel folio 请补充住宿水单")
    assert run.inbox() == [("fill_claim", "applicant", None)]
    assert run.task("fill_claim").data["lines"] == LINES
    run.complete("fill_claim")
    run.decide("approve_by_manager", "approve")
    run.send("withdraw")
    assert run.data["outcome"] == "withdrawn"
    assert run.stub.called("budget/Release") == []


def test_overrun_beyond_tolerance_is_refused(restricted):
    stub = Stub()
    stub.fail("budget/CheckOverrun", "BUDGET_INSUFFICIENT", "Claim exceeds the reservation by 900.00 (tolerance 5%)")
    run = claim(restricted, stub, linked=True)
    assert run.data["outcome"] == "budget_refused"
    assert run.data["refuse_reason"].startswith("Claim exceeds")
    assert run.stub.called("budget/Release") == []


def test_standalone_claim_refused_at_reservation(restricted):
    stub = Stub()
    stub.fail("budget/ReserveClaim", "BUDGET_INSUFFICIENT", "HOTEL 2026 SALES-N exhausted")
    run = claim(restricted, stub)
    assert run.data["outcome"] == "budget_refused" and run.stub.called("budget/Release") == []
    assert run.stub.templates() == ["expense_claim_budget_refused"]


def test_write_off_refused_releases_the_claims_own_reservation(restricted):
    stub = Stub()
    stub.fail("budget/WriteOff", "BUDGET_INSUFFICIENT", "Period 2026 closed for SALES-N")
    run = claim(restricted, stub)
    run.decide("approve_by_manager", "approve")
    assert run.data["outcome"] == "budget_refused"
    assert run.stub.called("budget/Release") == [{"document_no": "EC-2026-0001",
                                                  "reservation_id": "RSV-EC-2026-0001", "reason": "budget_refused"}]
    assert run.stub.called("erp/PostVoucher") == []


def test_standalone_claim_rejected_and_withdrawn_release_their_reservation(restricted):
    run = claim(restricted)
    run.decide("approve_by_manager", "reject", "Duplicate trip 重复行程")
    assert run.data["outcome"] == "rejected"
    assert run.stub.called("budget/Release")[0]["reason"] == "rejected"
    run = claim(restricted)
    run.send("withdraw")
    assert run.data["outcome"] == "withdrawn"
    assert run.stub.called("budget/Release")[0]["reason"] == "withdrawn"


def test_standalone_claim_send_back_releases_and_reserves_again(restricted):
    run = claim(restricted)
    run.decide("approve_by_manager", "send_back", "Wrong subject 科目错误")
    assert run.stub.called("budget/Release")[0]["reason"] == "send_back"
    data = run.task("fill_claim").data
    assert data["lines"] == LINES and data["subject"] == "TRAVEL"
    run.complete("fill_claim", subject="HOTEL")
    run.decide("approve_by_manager", "approve")
    assert run.data["outcome"] == "posted"
    assert [c["subject"] for c in run.stub.called("budget/ReserveClaim")] == ["TRAVEL", "HOTEL"]
    assert len(run.stub.called("budget/Release")) == 1


def test_erp_failure_goes_to_finance_and_retries(restricted):
    stub = Stub()
    stub.fail("erp/PostVoucher", "ERP_POST_FAILED", "Vendor V-QH0101 is blocked in K3", erp_status=400)
    run = claim(restricted, stub)
    run.decide("approve_by_manager", "approve")
    assert run.inbox() == [("fix_posting", "finance", None)]
    assert run.task("fix_posting").data["erp_error"]["message"] == "Vendor V-QH0101 is blocked in K3"
    run.complete("fix_posting", fix_note="Vendor unblocked 已解冻供应商")
    assert run.data["outcome"] == "posted"
    assert len(run.stub.called("erp/PostVoucher")) == 2
    assert len(run.stub.called("budget/WriteOff")) == 1  # retry re-posts only


def test_duplicate_invoice_goes_back_to_the_applicant(restricted):
    stub = Stub()
    stub.fail("claims/CheckInvoices", "DUPLICATE_INVOICE",
              "Invoice 031002300111/12345678 was already claimed on EC-2026-0007", earlier_claim="EC-2026-0007")
    run = claim(restricted, stub)
    assert run.inbox() == [("fill_claim", "applicant", None)]
    data = run.task("fill_claim").data
    assert data["invoice_problem"].endswith("EC-2026-0007") and data["invoice_error"]["earlier_claim"]
    assert data["lines"] == LINES
    assert run.stub.templates() == ["expense_claim_duplicate_invoice"]
    assert run.stub.called("budget/ReserveClaim") == []
    run.complete("fill_claim", lines=LINES[1:])
    run.decide("approve_by_manager", "approve")
    assert run.data["outcome"] == "posted" and run.data["total"] == "553.00"


def test_big_entertainment_claim_runs_the_whole_chain(restricted):
    lines = [{"subject": "ENTERTAINMENT", "amount": "12500.00", "tax": "0.00", "invoice_code": "1",
              "invoice_number": "88"}, {"subject": "ENTERTAINMENT", "amount": "9000.00", "tax": "0.00",
                                        "invoice_code": "1", "invoice_number": "89"}]
    run = Run("expense_claim", {**CLAIM, "countersigners": ["E0201", "E0202"]}, restricted=restricted)
    run.complete("fill_claim", subject="ENTERTAINMENT", purpose="Dealer dinner 经销商宴请", lines=lines)
    for level in ("approve_by_manager", "approve_by_department_head", "approve_by_finance_director"):
        run.decide(level, "approve")
    run.decide("countersign", "approve", approver="E0202")
    run.decide("countersign", "approve", approver="E0201")
    assert run.data["outcome"] == "posted" and run.data["total"] == "21500.00"
