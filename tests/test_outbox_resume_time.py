"""A connector job that finishes resumes its instance at the caller's time (``outbox.run_due(resume_at=)``).

A simulation's virtual clock must reach the steps after a job: a timer the resumed instance starts
is due from the virtual time, not from the real clock (the worker itself passes nothing: real time).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine.services import outbox, processes
from engine.services.masterdata.importing import seed_demo
from engine.workflow import bundle as bundles

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="resume_defs" targetNamespace="http://budgetflow.example/test">
  <bpmn:process id="resume_at_test" isExecutable="true">
    <bpmn:laneSet id="r_lanes">
      <bpmn:lane id="r_lane_manager" name="manager"><bpmn:flowNodeRef>approve</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="r_lane_system" name="system">
        <bpmn:flowNodeRef>r_start</bpmn:flowNodeRef><bpmn:flowNodeRef>ask_oa</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>r_end</bpmn:flowNodeRef><bpmn:flowNodeRef>late</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>r_late_end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="r_start"><bpmn:outgoing>r1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="ask_oa" name="Ask the OA">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="oa/GetApproval" resultVariable="oa_status">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="vendor" type="str" value="'wecom'" />
            <spiffworkflow:parameter id="instance_id" type="str" value="'OA-1'" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>r1</bpmn:incoming><bpmn:outgoing>r2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:userTask id="approve" name="Approve">
      <bpmn:incoming>r2</bpmn:incoming><bpmn:outgoing>r3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="late" attachedToRef="approve">
      <bpmn:outgoing>r4</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>'PT1H'</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="r_end"><bpmn:incoming>r3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="r_late_end"><bpmn:incoming>r4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="r1" sourceRef="r_start" targetRef="ask_oa" />
    <bpmn:sequenceFlow id="r2" sourceRef="ask_oa" targetRef="approve" />
    <bpmn:sequenceFlow id="r3" sourceRef="approve" targetRef="r_end" />
    <bpmn:sequenceFlow id="r4" sourceRef="late" targetRef="r_late_end" />
  </bpmn:process>
</bpmn:definitions>
"""


class AnsweringOa:
    def run(self, operator: str, params: dict[str, Any], *, key: str, attempt: int = 1) -> dict[str, Any]:
        assert operator == "oa/GetApproval"
        return {"status": "approved"}


def _store(container: Any) -> None:
    """Stored as a version directly: this test is about the outbox, not about what `bpmn check` asks of a diagram."""
    files = {"resume_at_test.bpmn": DIAGRAM}
    parsed = bundles.parse(files)
    with container.uow() as uow:
        version_id = uow.instances.add_version(sha=parsed.sha256, files=files, process_ids=list(parsed.processes),
                                               by="E0016", label="resume_at test")
        uow.instances.activate(version_id, by="E0016")
        uow.commit()


def test_a_finished_job_resumes_its_instance_at_the_time_given(container):
    seed_demo(container.masterdata_store)
    _store(container)
    virtual = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # long before the real clock of the test run
    out = processes.start(container.uow, process_id="resume_at_test", applicant="E0017", business_key="RT-1",
                          now=virtual)
    assert out.open_tasks == []  # waiting for the OA job
    resumed_at = virtual + timedelta(hours=5)
    assert outbox.run_due(container.uow, AnsweringOa(), resume_at=resumed_at) == 1
    with container.reader() as uow:
        [task] = uow.instances.open_tasks_of_instance(out.instance_id)
    assert task["bpmn_id"] == "approve"
    assert processes.fire_due_timers(container.uow, now=resumed_at + timedelta(minutes=59)) == 0
    assert processes.fire_due_timers(container.uow, now=resumed_at + timedelta(minutes=61)) == 1  # due 1 h after
    with container.reader() as uow:
        assert uow.instances.open_tasks_of_instance(out.instance_id) == []  # the timer took the task away
