"""``bpmn check`` rule for diagram interchange (BPMNDI): the drawing of every element.

Without a shape or an edge the web app cannot draw where an instance stands, and a modeller
opening the file shows the element nowhere (or lays it out anew). A file with no BPMNDI at all
gets one line; otherwise every flow node, lane, pool and boundary event needs a BPMNShape and
every sequence flow a BPMNEdge with at least two waypoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.workflow.check_common import BPMN, NS, element_id, local

FLOW_NODES = frozenset({
    "task", "userTask", "serviceTask", "scriptTask", "manualTask", "businessRuleTask", "sendTask", "receiveTask",
    "callActivity", "subProcess", "transaction", "adHocSubProcess", "startEvent", "endEvent",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway",
    "inclusiveGateway", "eventBasedGateway", "complexGateway", "lane", "participant",
})


def check_di(name: str, root: Any) -> Iterator[str]:
    if root.find(".//bpmndi:BPMNDiagram", NS) is None:
        yield (f"{name}:-: no diagram interchange (BPMNDI): the file has no drawing; save it from a modeller "
               f"(Camunda Modeler, SpiffArena) so every element has a shape")
        return
    shapes = {s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.tag.startswith("{" + BPMN + "}") or not element.get("id"):
            continue
        kind = local(element)
        if kind in FLOW_NODES and element.get("id") not in shapes:
            yield f"{name}:{element_id(element)}: {kind} has no shape in the diagram (BPMNShape)"
        elif kind == "sequenceFlow":
            edge = edges.get(element.get("id"))
            if edge is None:
                yield f"{name}:{element_id(element)}: sequence flow has no edge in the diagram (BPMNEdge)"
            elif len(edge.findall("di:waypoint", NS)) < 2:
                yield f"{name}:{element_id(element)}: sequence flow's edge has fewer than two waypoints"
