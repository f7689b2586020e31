"""Issue 12: a run-time failure names the file, the element id and the expression that failed, never a traceback.

Each case is a copy of one small diagram whose step after the applicant's task fails in one way (a script, a
gateway condition, a timer expression, a DMN cell, a service task's parameter). The version is stored as an
older, laxer check could have let it through (straight into the table, then activated), so what is tested
is the engine's run-time naming, not ``bpmn check``. The instance becomes an incident whose last error reads
``tiny/tiny.bpmn:ELEMENT: KIND "EXPRESSION" failed: ERROR``.
"""

from __future__ import annotations

import pytest

from engine.services import processes, read_models
from engine.workflow.bundle import content_hash
from engine.workflow.errors import StepFailed
from tests.engine_support import APPLICANT

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="tiny_defs" targetNamespace="http://t">
<bpmn:process id="tiny" isExecutable="true">
<bpmn:laneSet id="lanes"><bpmn:lane id="lane_applicant" name="applicant"><bpmn:flowNodeRef>fill</bpmn:flowNodeRef>
</bpmn:lane></bpmn:laneSet>
<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
<bpmn:userTask id="fill" name="Fill"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
</bpmn:userTask>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="fill"/>
<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
"""
# The element after the applicant's task, by kind: it consumes f1 and leaves by f2 (and f3).
STEPS = {
    "script": """<bpmn:scriptTask id="compute"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
<bpmn:script>total = amount * rate</bpmn:script></bpmn:scriptTask>
<bpmn:sequenceFlow id="f1" sourceRef="fill" targetRef="compute"/>
<bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="end"/>""",
    "script of lines": """<bpmn:scriptTask id="compute"><bpmn:incoming>f1</bpmn:incoming>
<bpmn:outgoing>f2</bpmn:outgoing>
<bpmn:script>subtotal = amount * 2
total = subtotal * rate
done = True</bpmn:script></bpmn:scriptTask>
<bpmn:sequenceFlow id="f1" sourceRef="fill" targetRef="compute"/>
<bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="end"/>""",
    "condition": """<bpmn:exclusiveGateway id="decide_route" default="f3"><bpmn:incoming>f1</bpmn:incoming>
<bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
<bpmn:sequenceFlow id="f1" sourceRef="fill" targetRef="decide_route"/>
<bpmn:sequenceFlow id="f2" sourceRef="decide_route" targetRef="end">
<bpmn:conditionExpression>value &gt; limit</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f3" sourceRef="decide_route" targetRef="end"/>""",
    "timer": """<bpmn:intermediateCatchEvent id="pause"><bpmn:incoming>f1</bpmn:incoming>
<bpmn:outgoing>f2</bpmn:outgoing>
<bpmn:timerEventDefinition><bpmn:timeDuration>wait_for</bpmn:timeDuration></bpmn:timerEventDefinition>
</bpmn:intermediateCatchEvent>
<bpmn:sequenceFlow id="f1" sourceRef="fill" targetRef="pause"/>
<bpmn:sequenceFlow id="f2" sourceRef="pause" targetRef="end"/>""",
    "bad duration": """<bpmn:intermediateCatchEvent id="pause"><bpmn:incoming>f1</bpmn:incoming>
<bpmn:outgoing>f2</bpmn:outgoing>
<bpmn:timerEventDefinition><bpmn:timeDuration>wait_for</bpmn:timeDuration></bpmn:timerEventDefinition>
</bpmn:intermediateCatchEvent>
<bpmn:sequenceFlow id="f1" sourceRef="fill" targetRef="pause"/>
<bpmn:sequenceFlow id="f2" sourceRef="pause" targetRef="end"/>""",
    "dmn": """<bpmn:businessRuleTask id="decide"><bpmn:extensionElements>
<spiffworkflow:calledDecisionId>route</spiffworkflow:calledDecisionId></bpmn:extensionElements>
<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:businessRuleTask>
<bpmn:sequenceFlow id="f1" sourceRef="fill" targetRef="decide"/>
<bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="end"/>""",
    "service": """<bpmn:serviceTask id="notify"><bpmn:extensionElements>
<spiffworkflow:serviceTaskOperator id="notify/Send" resultVariable="sent"><spiffworkflow:parameters>
<spiffworkflow:parameter id="document_no" type="str" value="document_no"/>
<spiffworkflow:parameter id="to" type="str" value="recipient_of(applicant)"/>
</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
<bpmn:sequenceFlow id="f1" sourceRef="fill" targetRef="notify"/>
<bpmn:sequenceFlow id="f2" sourceRef="notify" targetRef="end"/>""",
}
DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="route_defs" name="Route" namespace="http://t">
<decision id="route" name="Route"><decisionTable id="route_table" hitPolicy="UNIQUE">
<input id="in_amount" label="Amount"><inputExpression id="in_amount_expr" typeRef="number"><text>value</text>
</inputExpression></input>
<output id="out_big" name="big" typeRef="boolean"/>
<rule id="rule_small"><inputEntry id="rs_in"><text>&lt; 1</text></inputEntry><outputEntry id="rs_out">
<text>False</text></outputEntry></rule>
<rule id="rule_big"><inputEntry id="rb_in"><text>&gt; limit</text></inputEntry><outputEntry id="rb_out">
<text>True</text></outputEntry></rule>
</decisionTable></decision></definitions>"""
EXPECTED = {
    "script": "tiny/tiny.bpmn:compute: script \"total = amount * rate\" failed: NameError: name 'rate' is not defined",
    "script of lines": "tiny/tiny.bpmn:compute: script \"total = subtotal * rate\" (line 2) failed: "
                       "NameError: name 'rate' is not defined",
    "condition": "tiny/tiny.bpmn:decide_route: condition \"value > limit\" failed: "
                 "NameError: name 'limit' is not defined",
    "timer": "tiny/tiny.bpmn:pause: timer expression \"wait_for\" failed: NameError: name 'wait_for' is not defined",
    "bad duration": "tiny/tiny.bpmn:pause: timer expression \"wait_for\" failed: Invalid duration",
    "dmn": "tiny/tiny.bpmn:decide: DMN cell \"> limit\" (decision table route_table, rule rule_big (row 2)) failed: "
           "NameError: name 'limit' is not defined",
    "service": "tiny/tiny.bpmn:notify: service parameter \"recipient_of(applicant)\" failed: "
               "NameError: name 'recipient_of' is not defined",
}
START_DATA = {"amount": 3, "value": 5}


def store_unchecked(app, files: dict[str, str]) -> None:
    """Store and activate ``files`` without ``bpmn check``: a version a laxer, older check let through."""
    with app.uow() as uow:
        version_id = uow.instances.add_version(sha=content_hash(files), files=files, process_ids=["tiny"],
                                               by="E0016", label="unchecked")
        uow.instances.activate(version_id, by="E0016")
        uow.commit()


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_a_failure_at_run_time_names_file_element_and_expression(app, kind):
    files = {"tiny/tiny.bpmn": HEAD + STEPS[kind] + "\n</bpmn:process></bpmn:definitions>", "tiny/route.dmn": DMN}
    store_unchecked(app, files)
    data = {**START_DATA, **({"wait_for": "P1X"} if kind == "bad duration" else {})}
    started = processes.start(app.uow, process_id="tiny", applicant=APPLICANT, business_key=f"T-{kind}", data=data)
    fill = started.open_tasks[0]
    with pytest.raises(StepFailed) as failed:
        processes.complete_task(app.uow, task_guid=fill["task_guid"], user=APPLICANT, form={})
    assert str(failed.value) == EXPECTED[kind]
    incident = next(r for r in read_models.incidents(app.reader).instances if r["business_key"] == f"T-{kind}")
    assert incident["last_error"] == EXPECTED[kind]
    assert "Traceback" not in incident["last_error"] and "WorkflowTaskException" not in incident["last_error"]
