"""What a process designer does in the modeller, done to a copy of bpmn/ with lxml: add a lane, a node, a flow.

Each edit keeps the diagram whole as the modeller would: the semantic element, its lane's
``flowNodeRef``, the ``incoming``/``outgoing`` references and the diagram interchange (a shape per
node and lane, an edge with waypoints per flow), so ``bpmn check`` judges the change, not the tool.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI, "spiffworkflow": SPIFF}
SIZES = {"userTask": (100, 80), "scriptTask": (100, 80), "exclusiveGateway": (50, 50)}
LANE_HEIGHT = 200


class Diagram:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = etree.parse(str(path)).getroot()
        self.process = self.root.find("bpmn:process", NS)
        self.plane = self.root.find(".//bpmndi:BPMNPlane", NS)

    def save(self) -> None:
        self.path.write_bytes(etree.tostring(self.root, xml_declaration=True, encoding="UTF-8"))

    # ---------------------------------------------------------------- lookups
    def element(self, element_id: str) -> Any:
        found = self.root.find(f".//*[@id='{element_id}']")
        assert found is not None, element_id
        return found

    def bounds(self, element_id: str) -> dict[str, float]:
        shape = self.plane.find(f"bpmndi:BPMNShape[@bpmnElement='{element_id}']/dc:Bounds", NS)
        return {k: float(shape.get(k)) for k in ("x", "y", "width", "height")}

    # ---------------------------------------------------------------- edits
    def add_lane(self, lane_id: str, name: str, label: str) -> None:
        """A lane under the others; the pool grows by one lane's height."""
        lane_set = self.process.find("bpmn:laneSet", NS)
        lane = etree.SubElement(lane_set, f"{{{BPMN}}}lane", id=lane_id, name=name)
        etree.SubElement(lane, f"{{{BPMN}}}documentation").text = label
        pool = self.plane.find("bpmndi:BPMNShape[@isHorizontal='true']/dc:Bounds", NS)
        lanes = [self.bounds(other.get("id")) for other in lane_set.iterfind("bpmn:lane", NS) if other is not lane]
        top = max(b["y"] + b["height"] for b in lanes)
        pool.set("height", str(float(pool.get("height")) + LANE_HEIGHT))
        self._shape(lane_id, lanes[0]["x"], top, lanes[0]["width"], LANE_HEIGHT, isHorizontal="true")

    def lane_top(self, lane_id: str) -> float:
        return self.bounds(lane_id)["y"]

    def add_node(self, kind: str, node_id: str, name: str, *, lane: str, x: float, y: float,
                 before: str | None = None) -> Any:
        node = etree.Element(f"{{{BPMN}}}{kind}", id=node_id, name=name)
        anchor = self.process.find(f"*[@id='{before}']") if before else None
        if anchor is not None:
            anchor.addprevious(node)
        else:
            self.process.find("bpmn:sequenceFlow", NS).addprevious(node)
        lane_element = self.element(lane)
        etree.SubElement(lane_element, f"{{{BPMN}}}flowNodeRef").text = node_id
        width, height = SIZES[kind]
        self._shape(node_id, x, y, width, height)
        return node

    def add_flow(self, flow_id: str, source: str, target: str, *, condition: str | None = None,
                 name: str | None = None) -> Any:
        flow = etree.SubElement(self.process, f"{{{BPMN}}}sequenceFlow", id=flow_id, sourceRef=source,
                                targetRef=target)
        if name:
            flow.set("name", name)
        if condition:
            expression = etree.SubElement(flow, f"{{{BPMN}}}conditionExpression")
            expression.text = condition
        self._ref(source, "outgoing", flow_id)
        self._ref(target, "incoming", flow_id)
        self._edge(flow_id, source, target)
        return flow

    def retarget(self, flow_id: str, target: str) -> None:
        """Point an existing flow at another node (the modeller's drag of the arrow's head)."""
        flow = self.element(flow_id)
        old = self.element(flow.get("targetRef"))
        for ref in old.iterfind("bpmn:incoming", NS):
            if ref.text == flow_id:
                old.remove(ref)
        flow.set("targetRef", target)
        self._ref(target, "incoming", flow_id)
        edge = self.plane.find(f"bpmndi:BPMNEdge[@bpmnElement='{flow_id}']", NS)
        self.plane.remove(edge)
        self._edge(flow_id, flow.get("sourceRef"), target)

    def set_default(self, gateway: str, flow_id: str) -> None:
        self.element(gateway).set("default", flow_id)

    # ---------------------------------------------------------------- internals
    def _ref(self, node_id: str, kind: str, flow_id: str) -> None:
        node = self.element(node_id)
        ref = etree.Element(f"{{{BPMN}}}{kind}")
        ref.text = flow_id
        existing = node.findall(f"bpmn:{kind}", NS)
        if existing:
            existing[-1].addnext(ref)
        elif kind == "incoming":
            outgoing = node.find("bpmn:outgoing", NS)
            if outgoing is not None:
                outgoing.addprevious(ref)
            else:
                self._append_after_extensions(node, ref)
        else:
            self._append_after_extensions(node, ref)

    @staticmethod
    def _append_after_extensions(node: Any, ref: Any) -> None:
        children = [c for c in node if isinstance(c.tag, str) and etree.QName(c).localname in
                    ("documentation", "extensionElements", "incoming")]
        if children:
            children[-1].addnext(ref)
        else:
            node.insert(0, ref)

    def _shape(self, element_id: str, x: float, y: float, width: float, height: float, **extra: str) -> None:
        shape = etree.SubElement(self.plane, f"{{{BPMNDI}}}BPMNShape", id=f"{element_id}_di", bpmnElement=element_id,
                                 **extra)
        etree.SubElement(shape, f"{{{DC}}}Bounds", x=f"{x:g}", y=f"{y:g}", width=f"{width:g}", height=f"{height:g}")

    def _edge(self, flow_id: str, source: str, target: str) -> None:
        edge = etree.SubElement(self.plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{flow_id}_di", bpmnElement=flow_id)
        for node in (source, target):
            b = self.bounds(node)
            etree.SubElement(edge, f"{{{DI}}}waypoint", x=f"{b['x'] + b['width'] / 2:g}",
                             y=f"{b['y'] + b['height'] / 2:g}")


def user_task_extensions(node: Any, *, form: str, notify: bool = True) -> None:
    """The SpiffWorkflow properties an approval task carries: its form, and the OA notice when it opens."""
    extensions = etree.SubElement(node, f"{{{BPMN}}}extensionElements")
    properties = etree.SubElement(extensions, f"{{{SPIFF}}}properties")
    etree.SubElement(properties, f"{{{SPIFF}}}property", name="formJsonSchemaFilename", value=form)
    if notify:
        etree.SubElement(properties, f"{{{SPIFF}}}property", name="notify", value="on_open")


def script(node: Any, text: str) -> None:
    node.set("scriptFormat", "python")
    element = etree.SubElement(node, f"{{{BPMN}}}script")
    element.text = text
