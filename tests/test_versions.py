"""Process owners change behaviour by deploying a changed diagram; running instances keep their version."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.persistence.workflow_tables import ProcessInstance
from engine.services import processes
from engine.services.steps import NotAllowed
from engine.workflow.bundle import read_folder
from engine.workflow.errors import BundleInvalid
from tests.boundary.support import audit_rows
from tests.engine_support import APPLICANT, FINANCE, FIXTURES, MANAGER, only_task, start_claim

EXTRA_STEP = (
    '<bpmn:userTask id="approve_by_finance" name="Finance approval"><bpmn:incoming>f4</bpmn:incoming>'
    '<bpmn:outgoing>f4b</bpmn:outgoing></bpmn:userTask>\n'
    '<bpmn:sequenceFlow id="f4b" sourceRef="approve_by_finance" targetRef="decided" />'
)
EXTRA_DRAWING = (  # `bpmn check` wants every element drawn
    '<bpmndi:BPMNShape id="approve_by_finance_di" bpmnElement="approve_by_finance"><dc:Bounds x="900" y="600" '
    'width="100" height="80" /></bpmndi:BPMNShape><bpmndi:BPMNEdge id="f4b_di" bpmnElement="f4b">'
    '<di:waypoint x="1000" y="640" /><di:waypoint x="1100" y="640" /></bpmndi:BPMNEdge>'
)


def with_finance_step(files: dict[str, str]) -> dict[str, str]:
    """The fixture diagram with one more approval inserted after the manager's: an edit, not code."""
    text = files["mini_claim.bpmn"]
    text = text.replace('<bpmn:sequenceFlow id="f4" sourceRef="approve_by_manager" targetRef="decided" />',
                        '<bpmn:sequenceFlow id="f4" sourceRef="approve_by_manager" targetRef="approve_by_finance" />')
    text = text.replace('<bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>',
                        '<bpmn:incoming>f4b</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>')
    text = text.replace("</bpmn:process>", EXTRA_STEP + "\n</bpmn:process>")
    text = text.replace("</bpmndi:BPMNPlane>", EXTRA_DRAWING + "</bpmndi:BPMNPlane>")
    text = text.replace('<bpmn:flowNodeRef>fix_posting</bpmn:flowNodeRef>',
                        '<bpmn:flowNodeRef>fix_posting</bpmn:flowNodeRef><bpmn:flowNodeRef>approve_by_finance'
                        '</bpmn:flowNodeRef>')
    assert text != files["mini_claim.bpmn"]
    return {**files, "mini_claim.bpmn": text}


def submit_and_approve(app, task):
    approval = only_task(processes.complete_task(app.uow, task_guid=task["task_guid"], user=APPLICANT, form={}))
    return processes.complete_task(app.uow, task_guid=approval["task_guid"], user=MANAGER,
                                   form={"decision": "approve"})


def test_a_new_version_routes_new_instances_while_old_ones_finish_on_theirs(app):
    old_fill = only_task(start_claim(app, "EXP-V-OLD"))
    version_id, _ = processes.deploy(app.uow, with_finance_step(read_folder(FIXTURES)), by="E0016", label="v2")
    new_fill = only_task(start_claim(app, "EXP-V-NEW"))

    old = submit_and_approve(app, old_fill)
    assert old.open_tasks == [] and old.status == "waiting"  # straight on to posting: no finance step

    new = submit_and_approve(app, new_fill)
    finance = only_task(new)
    assert finance["bpmn_id"] == "approve_by_finance" and FINANCE in finance["candidates"]
    with app.uow() as uow:
        versions = {v["label"]: v["instances"] for v in uow.instances.versions()}
    assert versions == {None: 1, "v2": 1}
    assert version_id == 2


# -- issue 12: deploying stores a version, activating chooses what new instances start on

def version_of(app, business_key: str) -> int:
    """The model version the instance of ``business_key`` runs on."""
    with app.uow() as uow:
        return uow.conn.execute(select(ProcessInstance.model_version_id)
                                .where(ProcessInstance.business_key == business_key)).scalar_one()


def test_a_deployed_version_waits_for_activation_and_rollback_is_activating_the_old_one(app):
    v2 = processes.deploy_version(app.uow, with_finance_step(read_folder(FIXTURES)), by="E0016", activate=False)
    assert (v2.version_id, v2.new, v2.activated, v2.active, v2.first) == (2, True, False, False, False)
    assert version_of(app, _start(app, "EXP-A-1")) == 1  # deployed, not active: still the old one

    assert processes.activate(app.uow, 2, by="E0016") is True
    running_on_2 = _start(app, "EXP-A-2")
    assert version_of(app, running_on_2) == 2

    assert processes.activate(app.uow, 1, by="E0015") is True  # the rollback
    assert version_of(app, _start(app, "EXP-A-3")) == 1
    assert version_of(app, running_on_2) == 2  # a running instance keeps its version
    assert processes.activate(app.uow, 1, by="E0015") is False  # already active: nothing recorded

    activations = audit_rows(app, "model.activated")
    assert [(a["actor"], a["subject"], a["replaces"]) for a in activations][-2:] == [
        ("E0016", "2", {"mini_claim": 1, "mini_timer": 1}), ("E0015", "1", {"mini_claim": 2, "mini_timer": 2})]
    with app.uow() as uow:
        listed = {v["id"]: (v["active_for"], v["running"], v["instances"]) for v in uow.instances.versions()}
    assert listed == {1: (["mini_claim", "mini_timer"], 2, 2), 2: ([], 1, 1)}


def test_deploying_identical_files_names_the_existing_version_and_stores_nothing(app):
    again = processes.deploy_version(app.uow, read_folder(FIXTURES), by="E0016", activate=False)
    assert (again.version_id, again.new, again.active, again.activated) == (1, False, True, False)
    draft = with_finance_step(read_folder(FIXTURES))
    first = processes.deploy_version(app.uow, draft, by="E0016", activate=False)
    second = processes.deploy_version(app.uow, draft, by="E0015", activate=False)
    assert (second.version_id, second.new, second.active, second.deployed_at) == (2, False, False, first.deployed_at)
    with app.uow() as uow:
        assert [v["id"] for v in uow.instances.versions()] == [1, 2]


def test_the_first_version_of_an_empty_database_is_activated_at_once(container):
    done = processes.deploy_version(container.uow, read_folder(FIXTURES), by="E0016", activate=False)
    assert (done.version_id, done.new, done.activated, done.active, done.first) == (1, True, True, True, True)
    with container.uow() as uow:
        assert uow.instances.active_version("mini_claim") == (1, done.sha256)


def test_empty_bundles_and_bundles_that_fail_the_check_are_refused_and_nothing_is_stored(app):
    with pytest.raises(BundleInvalid, match="no .bpmn or .dmn file"):
        processes.deploy_version(app.uow, {}, by="E0016")
    with pytest.raises(BundleInvalid, match="no .bpmn or .dmn file"):
        processes.deploy_version(app.uow, {"forms/a.schema.json": "{}"}, by="E0016")
    broken = read_folder(FIXTURES)
    broken["mini_claim.bpmn"] = broken["mini_claim.bpmn"].replace('targetRef="decided"', 'targetRef="nowhere"')
    with pytest.raises(BundleInvalid):
        processes.deploy_version(app.uow, broken, by="E0016", activate=True)
    with app.uow() as uow:
        assert [v["id"] for v in uow.instances.versions()] == [1]
        assert uow.instances.active_version("mini_claim")[0] == 1


def test_activating_a_version_that_does_not_exist_is_refused(app):
    with pytest.raises(NotAllowed, match="no model version 9"):
        processes.activate(app.uow, 9, by="E0016")


def _start(app, number: str) -> str:
    start_claim(app, number)
    return number
