"""Lanes as data: a diagram copy uses a lane only the data dictionary defines, and no Python is edited.

The demo dictionary (engine/seed/demo/lanes.csv) declares ``budget_line_owner`` (rule budget_line_owner,
fallback escalate, skip_prior_approvers) and names each budget line's owner in budget_lines.csv: the
North China sales lines belong to 陈静 (E0005), who is also the manager of 何鹏 (E0017).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from engine.services import processes
from engine.workflow.bundle import read_folder
from tests.designer.diagram_edits import Diagram, user_task_extensions
from tests.flows.support import APPLICANT, BPMN, DEPARTMENT_HEAD, MANAGER, Flow

OWNER = MANAGER  # 陈静 owns 2026/ORG:SALES-N/TRAVEL
TRAVEL = "travel_application/travel_application.bpmn"
def with_owner_review(tmp_path: Path) -> Path:
    """A copy of bpmn/ whose travel application asks the budget line's owner first (before the chain)."""
    folder = tmp_path / "bpmn"
    shutil.copytree(BPMN, folder)
    shutil.copy(folder / "shared/forms/approve.schema.json", folder / "travel_application/forms/owner.schema.json")
    diagram = Diagram(folder / TRAVEL)
    diagram.add_lane("lane_budget_line_owner", "budget_line_owner", "Budget line owner 预算负责人")
    reserve = diagram.bounds("reserve_budget")
    task = diagram.add_node("userTask", "owner_review", "Budget owner approval 预算负责人审批",
                            lane="lane_budget_line_owner", x=reserve["x"] + 75,
                            y=diagram.lane_top("lane_budget_line_owner") + 60, before="prepare_routing")
    user_task_extensions(task, form="forms/owner.schema.json", notify=False)
    diagram.retarget("flow_reserve_budget_to_prepare_routing", "owner_review")
    diagram.add_flow("flow_owner_review_to_prepare_routing", "owner_review", "prepare_routing")
    diagram.save()
    return folder


def deploy(app, folder: Path) -> None:
    """Publish ``folder`` and activate it, as a designer does: the check judges its lane by the dictionary."""
    processes.deploy(app.uow, read_folder(folder), by="E0016", label="budget line owner")


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
