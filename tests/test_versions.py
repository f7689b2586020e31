"""Process owners change behaviour by deploying a changed diagram; running instances keep their version."""

from __future__ import annotations

from engine.services import processes
from engine.workflow.bundle import read_folder
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
