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

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET  # noqa: S405 - builds our own output; input is parsed with lxml below

from lxml import etree
from markupsafe import Markup

from web.bilingual import pick

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
MARGIN = 10
FONT = 13
SCALE = 0.8  # labels stay readable (about 10 px) while a wide diagram scrolls inside its box
BAND = 30  # width of the title band on the left of a horizontal pool or lane
TASKS = {"task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask",
         "manualTask", "callActivity", "subProcess", "transaction"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
EVENTS = {"startEvent", "endEvent", "boundaryEvent", "intermediateCatchEvent", "intermediateThrowEvent"}
_TOKEN = re.compile(r"[\u2e80-\uffff]|[^\s\u2e80-\uffff]+\s*|\s+")
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
class _Box:
    x: float
    y: float
    w: float
    h: float


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


def _bounds(node: Any) -> _Box | None:
    found = node.find(f"{{{DC}}}Bounds")
    if found is None:
        return None
    return _Box(*(float(found.get(k, "0")) for k in ("x", "y", "width", "height")))


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

    def _extend(self, box: _Box) -> None:
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
        figures = self.overlay.nodes.get(element.get("id"))
        if figures:
            self._extend(_figures(group, box, figures))

    def _tooltip(self, element: Any, kind: str, state: str) -> str:
        words = {"done": " — completed", "current": " — current step"}.get(state, "")
        return f"{self._name(element) or element.get('id')} ({KIND_WORDS.get(kind, kind)}){words}"

    def _outside_label(self, group: ET.Element, shape: Any, box: _Box, element: Any) -> None:
        name = self._name(element)
        if not name:
            return
        label = shape.find(f"{{{BPMNDI}}}BPMNLabel")
        where = _bounds(label) if label is not None else None
        where = where or _Box(box.x - 30, box.y + box.h + 4, box.w + 60, 30)
        self._extend(where)
        _text_block(group, where, name, anchor_top=True)

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
            _text_block(group, where, name, anchor_top=True)
        share = self.overlay.flows.get(element.get("id"))
        if share:
            self._extend(_flow_figure(group, points, share))


# ---------------------------------------------------------------- shapes

def _rect(group: ET.Element, box: _Box, *, rx: float) -> ET.Element:
    rect = ET.SubElement(group, "rect", x=f"{box.x:g}", y=f"{box.y:g}", width=f"{box.w:g}", height=f"{box.h:g}",
                         rx=f"{rx:g}")
    rect.set("class", "bf-shape")
    return rect


def _task(group: ET.Element, box: _Box, kind: str, name: str) -> None:
    _rect(group, box, rx=10)
    if kind == "callActivity":  # the BPMN convention: a call activity has a thick border
        inner = _rect(group, _Box(box.x + 3, box.y + 3, box.w - 6, box.h - 6), rx=8)
        inner.set("class", "bf-shape bf-inner")
    _text_block(group, _Box(box.x + 4, box.y + 4, box.w - 8, box.h - 8), name, anchor_top=False)


def _gateway(group: ET.Element, box: _Box, kind: str, marker: bool) -> None:
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


def _event(group: ET.Element, box: _Box, kind: str, element: Any) -> None:
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


def _badge(group: ET.Element, box: _Box, state: str) -> None:
    """✓ or ▶ in the shape's top-right corner: the state in a shape, not in colour only."""
    inside = box.w > 60  # tasks: inside the top-right corner; events and gateways: just outside it
    x, y = (box.x + box.w - 11, box.y + 18) if inside else (box.x + box.w + 4, box.y + 4)
    badge = ET.SubElement(group, "text", x=f"{x:g}", y=f"{y:g}")
    badge.set("class", "bf-badge")
    badge.set("aria-hidden", "true")
    badge.text = "▶" if state == "current" else "✓"


# ---------------------------------------------------------------- figures (step statistics)

FIGURE_FONT = 11
FIGURE_INK, FIGURE_PAPER, FIGURE_EDGE = "#0b3d91", "#eef4ff", "#0b3d91"  # presentation attributes: no CSS needed


def _figures(group: ET.Element, box: _Box, lines: list[str]) -> _Box:
    """A small box of figure lines just above the shape's top-left corner (labels of events sit below)."""
    line_height = FIGURE_FONT * 1.25
    width = max(_width(line) * FIGURE_FONT / FONT for line in lines) + 8
    where = _Box(box.x, box.y - 4 - line_height * len(lines) - 4, width, line_height * len(lines) + 4)
    _figure_box(group, where, lines, line_height)
    return where


def _flow_figure(group: ET.Element, points: list[tuple[float, float]], text: str) -> _Box:
    """The share of a gateway's way out, on the middle of its flow."""
    x, y = _halfway(points)
    width = _width(text) * FIGURE_FONT / FONT + 8
    where = _Box(x - width / 2, y - FIGURE_FONT, width, FIGURE_FONT * 1.25 + 4)
    _figure_box(group, where, [text], FIGURE_FONT * 1.25)
    return where


def _figure_box(group: ET.Element, where: _Box, lines: list[str], line_height: float) -> None:
    figure = ET.SubElement(group, "g")
    figure.set("class", "bf-figures")
    ET.SubElement(figure, "rect", x=f"{where.x:g}", y=f"{where.y:g}", width=f"{where.w:g}", height=f"{where.h:g}",
                  rx="3", fill=FIGURE_PAPER, stroke=FIGURE_EDGE)
    node = ET.SubElement(figure, "text", x=f"{where.x + 4:g}", y=f"{where.y + FIGURE_FONT + 1:g}", fill=FIGURE_INK)
    node.set("font-size", str(FIGURE_FONT))
    for n, line in enumerate(lines):
        span = ET.SubElement(node, "tspan", x=f"{where.x + 4:g}", dy="0" if n == 0 else f"{line_height:g}")
        span.text = line


def _halfway(points: list[tuple[float, float]]) -> tuple[float, float]:
    """The point halfway along a polyline."""
    segments = list(itertools.pairwise(points))
    lengths = [((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5 for (x1, y1), (x2, y2) in segments]
    left = sum(lengths) / 2
    for ((x1, y1), (x2, y2)), length in zip(segments, lengths, strict=True):
        if length >= left and length > 0:
            t = left / length
            return x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
        left -= length
    return points[-1]


# ---------------------------------------------------------------- text

def _width(text: str) -> float:
    """Rough width at FONT px: CJK ideographs are square, Latin letters a little over half as wide."""
    return sum(FONT if ord(ch) > 0x2E7F else FONT * 0.56 for ch in text)


def wrap(text: str, width: float, max_lines: int) -> list[str]:
    """Lines no wider than ``width``: Latin breaks at spaces, CJK anywhere; an ellipsis when cut."""
    lines: list[str] = []
    current = ""
    for token in _tokens(text):
        candidate = current + token if current else token.lstrip()
        if current and _width(candidate) > width:
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current = candidate
    if current.strip():
        lines.append(current.rstrip())
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip()[:-1] + "…"
    return lines


def _tokens(text: str) -> list[str]:
    """Each CJK character is a token; a Latin word keeps the spaces after it."""
    return _TOKEN.findall(" ".join(text.split()))


def _text_block(group: ET.Element, box: _Box, text: str, *, anchor_top: bool) -> None:
    line_height = FONT * 1.2
    lines = wrap(text, box.w, max(1, int(box.h // line_height)) if not anchor_top else 3)
    top = box.y + FONT if anchor_top else box.y + (box.h - line_height * len(lines)) / 2 + FONT
    node = ET.SubElement(group, "text", x=f"{box.x + box.w / 2:g}", y=f"{top:g}")
    node.set("class", "bf-label")
    node.set("text-anchor", "middle")
    for n, line in enumerate(lines):
        span = ET.SubElement(node, "tspan", x=f"{box.x + box.w / 2:g}", dy="0" if n == 0 else f"{line_height:g}")
        span.text = line
