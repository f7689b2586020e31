"""Lanes as data: a diagram copy uses a lane only the data dictionary defines, and no Python is edited.

The demo dictionary (engine/seed/demo/lanes.csv) declares ``budget_line_owner`` (rule budget_line_owner,
fallback escalate, skip_prior_approvers) and names each budget line's owner in budget_lines.csv: the
North China sales lines belong to 陈静 (E0005), who is also the manager of 何鹏 (E0017).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from engine.workflow import bundle as bundles
from engine.workflow.bundle import read_folder
from tests.flows.support import APPLICANT, BPMN, DEPARTMENT_HEAD, MANAGER, Flow

OWNER = MANAGER  # 陈静 owns 2026/ORG:SALES-N/TRAVEL
TRAVEL = "travel_application/travel_application.bpmn"
OWNER_TASK = """    <bpmn:userTask id="owner_review" name="Budget owner approval 预算负责人审批">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="forms/owner.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>flow_reserve_budget_to_owner_review</bpmn:incoming>
      <bpmn:outgoing>flow_owner_review_to_prepare_routing</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="flow_reserve_budget_to_owner_review" sourceRef="reserve_budget" targetRef="owner_review" />
    <bpmn:sequenceFlow id="flow_owner_review_to_prepare_routing" sourceRef="owner_review" targetRef="prepare_routing" />
"""
OWNER_LANE = """      <bpmn:lane id="lane_budget_line_owner" name="budget_line_owner">
        <bpmn:flowNodeRef>owner_review</bpmn:flowNodeRef>
      </bpmn:lane>
"""


def with_owner_review(tmp_path: Path) -> Path:
    """A copy of bpmn/ whose travel application asks the budget line's owner first (before the chain)."""
    folder = tmp_path / "bpmn"
    shutil.copytree(BPMN, folder)
    shutil.copy(folder / "shared/forms/approve.schema.json", folder / "travel_application/forms/owner.schema.json")
    path = folder / TRAVEL
    text = path.read_text(encoding="utf-8")
    text = text.replace('<bpmn:sequenceFlow id="flow_reserve_budget_to_prepare_routing" sourceRef="reserve_budget" '
                        'targetRef="prepare_routing" />', OWNER_TASK)
    text = text.replace("<bpmn:outgoing>flow_reserve_budget_to_prepare_routing</bpmn:outgoing>",
                        "<bpmn:outgoing>flow_reserve_budget_to_owner_review</bpmn:outgoing>")
    text = text.replace("<bpmn:incoming>flow_reserve_budget_to_prepare_routing</bpmn:incoming>",
                        "<bpmn:incoming>flow_owner_review_to_prepare_routing</bpmn:incoming>")
    text = text.replace('      <bpmn:lane id="lane_system" name="system">', OWNER_LANE
                        + '      <bpmn:lane id="lane_system" name="system">', 1)
    # Its diagram edge pointed at the flow that is gone: drop it (the layout is not what this test is about).
    start = text.index('      <bpmndi:BPMNEdge id="flow_reserve_budget_to_prepare_routing_di"')
    text = text[:start] + text[text.index("</bpmndi:BPMNEdge>", start) + len("</bpmndi:BPMNEdge>\n"):]
    path.write_text(text, encoding="utf-8")
    return folder


def deploy(app, folder: Path) -> None:
    """Publish ``folder`` as the newest version, as ``processes.deploy`` does after its check.

    The check of this branch still knows only the built-in lanes; once ``bpmn check`` takes the dictionary's
    (``check(files, lanes=known_lanes(uow))``), this is ``processes.deploy(app.uow, files, by=...)``.
    """
    files = read_folder(folder)
    parsed = bundles.parse(files)
    with app.uow() as uow:
        uow.instances.add_version(sha=parsed.sha256, files=dict(files), process_ids=list(parsed.processes),
                                  by="E0016", label="budget line owner")
        uow.commit()
    bundles.remember(parsed)


def test_the_budget_line_owner_lane_sends_the_task_to_the_lines_owner_and_no_one_approves_twice(
        flows_app, tmp_path):
    flow = Flow(flows_app)
    before = flow.apply("3000.00")  # the shipped diagrams: the manager's task goes to 陈静
    assert flow.task(before, "approve_by_manager")["candidates"] == [MANAGER]

    deploy(flows_app, with_owner_review(tmp_path))
    instance = flow.apply("3000.00")

    owner_task = flow.task(instance, "owner_review")
    assert (owner_task["lane"], owner_task["candidates"]) == ("budget_line_owner", [OWNER])
    flow.decide(instance, bpmn_id="owner_review", user=OWNER)
    # 陈静 approved as the line's owner in this round: the manager lane skips her and goes one up.
    assert flow.task(instance, "approve_by_manager")["candidates"] == [DEPARTMENT_HEAD]


def test_an_owner_who_applies_is_never_their_own_approver_the_fallback_escalates(flows_app, tmp_path):
    deploy(flows_app, with_owner_review(tmp_path))
    flow = Flow(flows_app)
    instance = flow.start("travel_application", applicant=OWNER)
    flow.act(instance, {"subject": "TRAVEL", "purpose": "Customer visit 客户拜访", "amount": "3000.00",
                        "currency": "CNY", "period": "2026"})

    assert flow.task(instance, "owner_review")["candidates"] == [DEPARTMENT_HEAD]  # escalate: one level up
    assert OWNER != APPLICANT
