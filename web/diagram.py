"""The process picture: a BPMN diagram drawn as inline SVG on the server, from its diagram interchange.

Why on the server (docs/web.md): the picture works without JavaScript, costs no megabyte-sized
viewer download on a phone, is covered by the CSP (no script), and is testable as plain markup.
Only what the diagram interchange (BPMN DI) says is drawn: pools and lanes (``BPMNShape`` bounds),
flow nodes, sequence flows (``BPMNEdge`` waypoints) and labels. Steps are marked with CSS classes
(``bf-done``, ``bf-current``, ``bf-taken`` on flows) *and* a glyph (✓ done, ▶ current), so the state
never rests on colour alone; the ``<title>``/``<desc>`` say the same in words for screen readers.

The XML is parsed without entities, DTDs or network access (it may come from an uploaded bundle).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET  # noqa: S405 - builds our own output; input is parsed with lxml below

from lxml import etree
from markupsafe import Markup

from web.bilingual import pick
from web.diagram_figures import figures, flow_figure
from web.diagram_layout import Box, text_block

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
MARGIN = 10
SCALE = 0.8  # labels stay readable (about 10 px) while a wide diagram scrolls inside its box
BAND = 30  # width of the title band on the left of a horizontal pool or lane
TASKS = {"task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask",
         "manualTask", "callActivity", "subProcess", "transaction"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
EVENTS = {"startEvent", "endEvent", "boundaryEvent", "intermediateCatchEvent", "intermediateThrowEvent"}
KIND_WORDS = {"userTask": "user task", "serviceTask": "service task", "scriptTask": "script task",
              "businessRuleTask": "business rule", "callActivity": "call activity", "startEvent": "start",
              "endEvent": "end", "boundaryEvent": "boundary event", "exclusiveGateway": "gateway",
              "parallelGateway": "parallel gateway"}


class DiagramUnavailable(ValueError):
    """The XML cannot be drawn: not BPMN, or no diagram interchange for the process."""


@dataclass(frozen=True)
class Marks:
    """Where a run stands: bpmn ids of finished and current steps, and the sequence flows it took."""

    completed: frozenset[str] = frozenset()
    current: frozenset[str] = frozenset()
    taken_flows: frozenset[str] = frozenset()

    @classmethod
    def of(cls, completed: Iterable[str] = (), current: Iterable[str] = (),
           taken_flows: Iterable[str] = ()) -> Marks:
        return cls(frozenset(completed), frozenset(current), frozenset(taken_flows))


@dataclass(frozen=True)
class Overlay:
    """Figures drawn on the diagram (step statistics): lines beside a shape, by element id; a label on a flow,
    by sequence flow id. The words come translated from the caller; the page repeats them in a table."""

    nodes: dict[str, list[str]] = field(default_factory=dict)
    flows: dict[str, str] = field(default_factory=dict)


@dataclass
class _Model:
    """The parsed definitions: element by id, and the diagram plane chosen for the process."""

    elements: dict[str, Any]
    plane: Any
    names: dict[str, str] = field(default_factory=dict)


def render(bpmn_xml: str | bytes, process_id: str | None = None, *, marks: Marks | None = None,
           language: str = "en", prefix: str = "bpmn", title: str | None = None,
           overlay: Overlay | None = None) -> Markup:
    """The diagram of ``process_id`` (else the file's first diagram) as an ``<svg>`` element.

    ``prefix`` keeps the SVG's ids unique when a page shows several pictures; ``title`` is the
    accessible name (default: the process name). Raises DiagramUnavailable when nothing can be drawn.
    """
    model = _load(bpmn_xml, process_id)
    marks = marks or Marks()
    drawing = _Drawing(model, marks, language, prefix, overlay or Overlay())
    svg = drawing.draw(title)
    return Markup(ET.tostring(svg, encoding="unicode"))  # noqa: S704 - built element by element, text escaped


def element_names(bpmn_xml: str | bytes, language: str = "en") -> dict[str, str]:
    """bpmn id -> name in ``language`` for every named element of the file (history lines name steps so)."""
    try:
        root = _parse(bpmn_xml)
    except DiagramUnavailable:
        return {}
    return {e.get("id"): pick(e.get("name"), language) for e in root.iter()
            if isinstance(e.tag, str) and e.tag.startswith(f"{{{BPMN}}}") and e.get("id") and e.get("name")}


# ---------------------------------------------------------------- reading

def _parse(bpmn_xml: str | bytes) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    raw = bpmn_xml.encode() if isinstance(bpmn_xml, str) else bpmn_xml
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise DiagramUnavailable(f"not readable XML: {exc}") from None
    if root.tag != f"{{{BPMN}}}definitions":
        raise DiagramUnavailable("not a BPMN file (no bpmn:definitions)")
    return root


def _load(bpmn_xml: str | bytes, process_id: str | None) -> _Model:
    root = _parse(bpmn_xml)
    elements = {e.get("id"): e for e in root.iter() if isinstance(e.tag, str) and e.get("id")
                and e.tag.startswith(f"{{{BPMN}}}")}
    plane = _plane(root, elements, process_id)
    return _Model(elements=elements, plane=plane)


def _plane(root: Any, elements: dict[str, Any], process_id: str | None) -> Any:
    planes = list(root.iter(f"{{{BPMNDI}}}BPMNPlane"))
    for plane in planes:
        if process_id is None or _shows(elements.get(plane.get("bpmnElement")), process_id):
            return plane
    what = f"process {process_id!r}" if process_id else "any process"
    raise DiagramUnavailable(f"the file has no diagram interchange (BPMNDiagram) for {what}")


def _shows(element: Any, process_id: str) -> bool:
    if element is None:
        return False
    if element.get("id") == process_id:
        return True
    return any(p.get("processRef") == process_id for p in element.iter(f"{{{BPMN}}}participant"))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _bounds(node: Any) -> Box | None:
    found = node.find(f"{{{DC}}}Bounds")
    if found is None:
        return None
    return Box(*(float(found.get(k, "0")) for k in ("x", "y", "width", "height")))


# ---------------------------------------------------------------- drawing

class _Drawing:
    def __init__(self, model: _Model, marks: Marks, language: str, prefix: str, overlay: Overlay) -> None:
        self.model, self.marks, self.language, self.prefix = model, marks, language, prefix
        self.overlay = overlay
        self.xs: list[float] = []
        self.ys: list[float] = []

    def draw(self, title: str | None) -> ET.Element:
        svg = ET.Element("svg", xmlns="http://www.w3.org/2000/svg", role="img", focusable="false")
        svg.set("class", "bpmn")
        svg.set("aria-labelledby", f"{self.prefix}-title {self.prefix}-desc")
        ET.SubElement(svg, "title", id=f"{self.prefix}-title").text = title or self._process_name()
        ET.SubElement(svg, "desc", id=f"{self.prefix}-desc").text = self._description()
        self._defs(svg)
        shapes = list(self.model.plane.iter(f"{{{BPMNDI}}}BPMNShape"))
        containers = [s for s in shapes if self._kind(s) in ("participant", "lane")]
        nodes = [s for s in shapes if s not in containers]
        layer = ET.SubElement(svg, "g")
        for shape in sorted(containers, key=lambda s: self._kind(s) != "participant"):
            self._container(layer, shape)
        for edge in self.model.plane.iter(f"{{{BPMNDI}}}BPMNEdge"):
            self._edge(layer, edge)
        for shape in sorted(nodes, key=lambda s: self._kind(s) == "boundaryEvent"):  # boundary events on top
            self._node(layer, shape)
        if not self.xs:
            raise DiagramUnavailable("the diagram interchange draws nothing")
        x0, y0 = min(self.xs) - MARGIN, min(self.ys) - MARGIN
        width, height = max(self.xs) + MARGIN - x0, max(self.ys) + MARGIN - y0
        svg.set("viewBox", f"{x0:g} {y0:g} {width:g} {height:g}")
        svg.set("width", f"{width * SCALE:.0f}")  # drawn a little smaller than modelled; the box scrolls
        svg.set("height", f"{height * SCALE:.0f}")
        return svg

    # -- words

    def _element(self, node: Any) -> Any:
        return self.model.elements.get(node.get("bpmnElement"))

    def _kind(self, node: Any) -> str:
        element = self._element(node)
        return _local(element.tag) if element is not None else ""

    def _name(self, element: Any) -> str:
        return pick(element.get("name") or "", self.language) if element is not None else ""

    def _process_name(self) -> str:
        plane_element = self.model.elements.get(self.model.plane.get("bpmnElement"))
        for candidate in (plane_element, *(plane_element.iter(f"{{{BPMN}}}participant")
                                           if plane_element is not None else ())):
            if candidate is not None and candidate.get("name"):
                return self._name(candidate)
        return "Process diagram"

    def _description(self) -> str:
        def names(ids: Iterable[str]) -> str:
            found = [self._name(self.model.elements.get(i)) or i for i in ids if i in self.model.elements]
            return ", ".join(found) or "none"
        if not (self.marks.completed or self.marks.current):
            return "The process diagram, with no run marked."
        done = [i for i in self.model.elements if i in self.marks.completed and i not in self.marks.current]
        current = [i for i in self.model.elements if i in self.marks.current]
        return f"Completed steps: {names(done)}. Current step: {names(current)}."

    # -- pieces

    def _extend(self, box: Box) -> None:
        self.xs += [box.x, box.x + box.w]
        self.ys += [box.y, box.y + box.h]

    def _defs(self, svg: ET.Element) -> None:
        defs = ET.SubElement(svg, "defs")
        for suffix in ("", "-taken"):
            marker = ET.SubElement(defs, "marker", id=f"{self.prefix}-arrow{suffix}", viewBox="0 0 10 10",
                                   refX="10", refY="5", markerWidth="10", markerHeight="10", orient="auto",
                                   markerUnits="userSpaceOnUse")  # the same head on thick taken flows
            marker.set("class", f"bf-arrow{suffix}")
            ET.SubElement(marker, "path", d="M0,0 L10,5 L0,10 z")

    def _container(self, parent: ET.Element, shape: Any) -> None:
        box, element = _bounds(shape), self._element(shape)
        if box is None or element is None:
            return
        self._extend(box)
        kind = _local(element.tag)
        group = ET.SubElement(parent, "g")
        group.set("class", f"bf-{'pool' if kind == 'participant' else 'lane'}")
        ET.SubElement(group, "rect", x=f"{box.x:g}", y=f"{box.y:g}", width=f"{box.w:g}", height=f"{box.h:g}")
        label = self._lane_label(element) if kind == "lane" else self._name(element)
        cx, cy = box.x + BAND / 2, box.y + box.h / 2
        text = ET.SubElement(group, "text", x=f"{cx:g}", y=f"{cy:g}", transform=f"rotate(-90 {cx:g} {cy:g})")
        text.set("text-anchor", "middle")
        text.set("dominant-baseline", "middle")
        text.text = label

    def _lane_label(self, lane: Any) -> str:
        """The lane's documentation carries its bilingual label ("Applicant 申请人"); the name is the contract."""
        doc = lane.find(f"{{{BPMN}}}documentation")
        text = (doc.text or "").split(" — ")[0].strip() if doc is not None else ""
        return pick(text, self.language) if text else lane.get("name", "")

    def _state(self, element_id: str) -> str:
        if element_id in self.marks.current:
            return "current"
        return "done" if element_id in self.marks.completed else ""

    def _node(self, parent: ET.Element, shape: Any) -> None:
        box, element = _bounds(shape), self._element(shape)
        if box is None or element is None:
            return
        self._extend(box)
        kind, state = _local(element.tag), self._state(element.get("id"))
        group = ET.SubElement(parent, "g")
        group.set("class", " ".join(c for c in ("bf-node", f"bf-{kind}", f"bf-{state}" if state else "") if c))
        group.set("data-element", element.get("id"))
        ET.SubElement(group, "title").text = self._tooltip(element, kind, state)
        if kind in TASKS:
            _task(group, box, kind, self._name(element))
        elif kind in GATEWAYS:
            _gateway(group, box, kind, shape.get("isMarkerVisible") != "false")
        elif kind in EVENTS:
            _event(group, box, kind, element)
        else:
            _rect(group, box, rx=0)
        if kind not in TASKS:
            self._outside_label(group, shape, box, element)
        if state:
            _badge(group, box, state)
        lines = self.overlay.nodes.get(element.get("id"))
        if lines:
            self._extend(figures(group, box, lines))

    def _tooltip(self, element: Any, kind: str, state: str) -> str:
        words = {"done": " — completed", "current": " — current step"}.get(state, "")
        return f"{self._name(element) or element.get('id')} ({KIND_WORDS.get(kind, kind)}){words}"

    def _outside_label(self, group: ET.Element, shape: Any, box: Box, element: Any) -> None:
        name = self._name(element)
        if not name:
            return
        label = shape.find(f"{{{BPMNDI}}}BPMNLabel")
        where = _bounds(label) if label is not None else None
        where = where or Box(box.x - 30, box.y + box.h + 4, box.w + 60, 30)
        self._extend(where)
        text_block(group, where, name, anchor_top=True)

    def _edge(self, parent: ET.Element, edge: Any) -> None:
        points = [(float(p.get("x", "0")), float(p.get("y", "0"))) for p in edge.iter(f"{{{DI}}}waypoint")]
        element = self._element(edge)
        if len(points) < 2 or element is None:
            return
        self.xs += [x for x, _ in points]
        self.ys += [y for _, y in points]
        taken = element.get("id") in self.marks.taken_flows
        group = ET.SubElement(parent, "g")
        group.set("class", "bf-flow bf-taken" if taken else "bf-flow")
        group.set("data-element", element.get("id"))
        line = ET.SubElement(group, "polyline", points=" ".join(f"{x:g},{y:g}" for x, y in points))
        line.set("marker-end", f"url(#{self.prefix}-arrow{'-taken' if taken else ''})")
        name = self._name(element)
        label = edge.find(f"{{{BPMNDI}}}BPMNLabel")
        where = _bounds(label) if label is not None else None
        if name and where is not None:
            self._extend(where)
            text_block(group, where, name, anchor_top=True)
        share = self.overlay.flows.get(element.get("id"))
        if share:
            self._extend(flow_figure(group, points, share))


# ---------------------------------------------------------------- shapes

def _rect(group: ET.Element, box: Box, *, rx: float) -> ET.Element:
    rect = ET.SubElement(group, "rect", x=f"{box.x:g}", y=f"{box.y:g}", width=f"{box.w:g}", height=f"{box.h:g}",
                         rx=f"{rx:g}")
    rect.set("class", "bf-shape")
    return rect


def _task(group: ET.Element, box: Box, kind: str, name: str) -> None:
    _rect(group, box, rx=10)
    if kind == "callActivity":  # the BPMN convention: a call activity has a thick border
        inner = _rect(group, Box(box.x + 3, box.y + 3, box.w - 6, box.h - 6), rx=8)
        inner.set("class", "bf-shape bf-inner")
    text_block(group, Box(box.x + 4, box.y + 4, box.w - 8, box.h - 8), name, anchor_top=False)


def _gateway(group: ET.Element, box: Box, kind: str, marker: bool) -> None:
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    diamond = ET.SubElement(group, "polygon", points=f"{cx:g},{box.y:g} {box.x + box.w:g},{cy:g} "
                                                      f"{cx:g},{box.y + box.h:g} {box.x:g},{cy:g}")
    diamond.set("class", "bf-shape")
    d = box.w / 5
    if kind == "parallelGateway":
        _mark(group, f"M{cx - d:g},{cy:g} H{cx + d:g} M{cx:g},{cy - d:g} V{cy + d:g}")
    elif kind == "exclusiveGateway" and marker:
        _mark(group, f"M{cx - d:g},{cy - d:g} L{cx + d:g},{cy + d:g} M{cx + d:g},{cy - d:g} L{cx - d:g},{cy + d:g}")
    elif kind == "inclusiveGateway":
        ET.SubElement(group, "circle", cx=f"{cx:g}", cy=f"{cy:g}", r=f"{d:g}").set("class", "bf-mark")


def _mark(group: ET.Element, path: str) -> None:
    ET.SubElement(group, "path", d=path).set("class", "bf-mark")


def _event(group: ET.Element, box: Box, kind: str, element: Any) -> None:
    cx, cy, r = box.x + box.w / 2, box.y + box.h / 2, min(box.w, box.h) / 2
    outer = ET.SubElement(group, "circle", cx=f"{cx:g}", cy=f"{cy:g}", r=f"{r:g}")
    classes = ["bf-shape", "bf-end" if kind == "endEvent" else ""]
    if element.get("cancelActivity") == "false":
        classes.append("bf-non-interrupting")
    outer.set("class", " ".join(c for c in classes if c))
    if kind in ("boundaryEvent", "intermediateCatchEvent", "intermediateThrowEvent"):
        inner = ET.SubElement(group, "circle", cx=f"{cx:g}", cy=f"{cy:g}", r=f"{r - 3:g}")
        inner.set("class", " ".join(["bf-shape", "bf-inner", *classes[2:]]))
    definitions = {_local(child.tag) for child in element if isinstance(child.tag, str)}
    s = r / 2
    if "timerEventDefinition" in definitions:
        ET.SubElement(group, "circle", cx=f"{cx:g}", cy=f"{cy:g}", r=f"{s:g}").set("class", "bf-mark")
        _mark(group, f"M{cx:g},{cy - s * 0.8:g} V{cy:g} H{cx + s * 0.6:g}")
    elif "messageEventDefinition" in definitions:
        _mark(group, f"M{cx - s:g},{cy - s * 0.6:g} h{2 * s:g} v{1.2 * s:g} h{-2 * s:g} z "
                     f"M{cx - s:g},{cy - s * 0.6:g} L{cx:g},{cy + s * 0.1:g} L{cx + s:g},{cy - s * 0.6:g}")
    elif "errorEventDefinition" in definitions:
        _mark(group, f"M{cx - s:g},{cy + s:g} L{cx - s * 0.4:g},{cy - s:g} L{cx + s * 0.2:g},{cy + s * 0.2:g} "
                     f"L{cx + s:g},{cy - s:g}")


def _badge(group: ET.Element, box: Box, state: str) -> None:
    """✓ or ▶ in the shape's top-right corner: the state in a shape, not in colour only."""
    inside = box.w > 60  # tasks: inside the top-right corner; events and gateways: just outside it
    x, y = (box.x + box.w - 11, box.y + 18) if inside else (box.x + box.w + 4, box.y + 4)
    badge = ET.SubElement(group, "text", x=f"{x:g}", y=f"{y:g}")
    badge.set("class", "bf-badge")
    badge.set("aria-hidden", "true")
    badge.text = "▶" if state == "current" else "✓"
