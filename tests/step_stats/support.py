"""A known set of instances on the fixture diagram (mini_claim), with timestamps set by the test.

Five documents: two approved (waiting at post_voucher for the worker), one rejected (finished), one waiting
for the manager, one waiting for the applicant. Every stored task then gets the time T0 (so the engine's steps
take no time), except those the test names; the inbox rows get exact opened → completed times.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from engine.services import processes
from tests.engine_support import APPLICANT, MANAGER, only_task, start_claim

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FILL_WAITS = {"SS-A": 60, "SS-B": 120, "SS-C": 180, "SS-D": 240}  # seconds the applicant took
APPROVAL_WAITS = {"SS-A": 3600, "SS-B": 7200, "SS-C": 60}  # seconds the manager took
WRITE_OFF_WAITS = {"SS-A": 30, "SS-B": 90}  # seconds from the gateway to the write-off's completion


def known_instances(app) -> dict[str, int]:
    """Start and drive the five documents; return document number -> instance id."""
    for number, decision in (("SS-A", "approve"), ("SS-B", "approve"), ("SS-C", "reject")):
        fill = only_task(start_claim(app, number))
        approval = only_task(processes.complete_task(app.uow, task_guid=fill["task_guid"], user=APPLICANT, form={}))
        processes.complete_task(app.uow, task_guid=approval["task_guid"], user=MANAGER, form={"decision": decision})
    fill = only_task(start_claim(app, "SS-D"))
    processes.complete_task(app.uow, task_guid=fill["task_guid"], user=APPLICANT, form={})
    start_claim(app, "SS-E")
    with app.uow() as uow:
        ids = {n: uow.instances.id_of(n) for n in ("SS-A", "SS-B", "SS-C", "SS-D", "SS-E")}
    _retime(app, ids)
    return ids


def _retime(app, ids: dict[str, int]) -> None:
    with app.uow() as uow:
        for number, instance_id in ids.items():
            state = json.loads(uow.conn.execute(text("SELECT state FROM process_instance WHERE id = :i"),
                                                {"i": instance_id}).scalar())
            for task in state["tasks"].values():
                extra = WRITE_OFF_WAITS.get(number, 0) if task["task_spec"] == "write_off" else 0
                task["last_state_change"] = T0.timestamp() + extra
            uow.conn.execute(text("UPDATE process_instance SET state = :s WHERE id = :i"),
                             {"s": json.dumps(state), "i": instance_id})
            for bpmn_id, waits in (("fill_claim", FILL_WAITS), ("approve_by_manager", APPROVAL_WAITS)):
                if number in waits:
                    uow.conn.execute(text("UPDATE human_task SET created_at = :c, completed_at = :d "
                                          "WHERE instance_id = :i AND bpmn_id = :b"),
                                     {"c": T0, "d": T0 + timedelta(seconds=waits[number]), "i": instance_id,
                                      "b": bpmn_id})
        uow.commit()


def with_layout(files: dict[str, str]) -> dict[str, str]:
    """The fixture diagram with a diagram interchange (if it has none): every flow node in a row, every flow a
    straight line, so the web app can draw it."""
    text = files["mini_claim.bpmn"]
    if "BPMNDiagram" in text:  # the fixture has one now (deploy asks for it)
        return files
    ids = re.findall(r'<bpmn:(?:startEvent|userTask|serviceTask|scriptTask|exclusiveGateway|endEvent|boundaryEvent)'
                     r' id="([^"]+)"', text)
    where = {element_id: (60 + 130 * n, 100 + 120 * (n % 2)) for n, element_id in enumerate(ids)}
    shapes = "".join(f'<bpmndi:BPMNShape id="{i}_di" bpmnElement="{i}"><dc:Bounds x="{x}" y="{y}" width="100" '
                     f'height="80" /></bpmndi:BPMNShape>' for i, (x, y) in where.items())
    edges = "".join(
        f'<bpmndi:BPMNEdge id="{f}_di" bpmnElement="{f}"><di:waypoint x="{where[s][0] + 50}" y="{where[s][1] + 40}" />'
        f'<di:waypoint x="{where[t][0] + 50}" y="{where[t][1] + 40}" /></bpmndi:BPMNEdge>'
        for f, s, t in re.findall(r'<bpmn:sequenceFlow id="([^"]+)" sourceRef="([^"]+)" targetRef="([^"]+)"', text))
    diagram = ('<bpmndi:BPMNDiagram id="mini_diagram"><bpmndi:BPMNPlane id="mini_plane" bpmnElement="mini_claim">'
               f"{shapes}{edges}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>")
    text = text.replace('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"',
                        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
                        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
                        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
                        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI"', 1)
    return {**files, "mini_claim.bpmn": text.replace("</bpmn:definitions>", diagram + "</bpmn:definitions>")}
