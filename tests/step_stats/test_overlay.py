"""The diagram's overlay hook: figure boxes land on the named shapes and flows, inside the picture's bounds."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from web.diagram import Overlay, render

TRAVEL = (Path(__file__).resolve().parents[2] / "bpmn" / "travel_application" / "travel_application.bpmn").read_text()
SVG = "{http://www.w3.org/2000/svg}"


def figures(svg: ET.Element, element_id: str) -> list[str]:
    (group,) = [g for g in svg.iter(f"{SVG}g") if g.get("data-element") == element_id]
    return [" / ".join(t.text or "" for t in box.iter(f"{SVG}tspan"))
            for box in group.iter(f"{SVG}g") if box.get("class") == "bf-figures"]


def test_figures_are_drawn_on_their_shapes_and_flows_and_nowhere_else():
    flow = "flow_start_application_to_fill_application"
    svg = ET.fromstring(str(render(TRAVEL, "travel_application", overlay=Overlay(
        nodes={"approval": ["3 passed", "median 2 h 00 min"], "no_such_element": ["x"]}, flows={flow: "2 · 50.0%"}))))
    assert figures(svg, "approval") == ["3 passed / median 2 h 00 min"]
    assert figures(svg, flow) == ["2 · 50.0%"]
    assert figures(svg, "fill_application") == []
    assert sum(1 for g in svg.iter(f"{SVG}g") if g.get("class") == "bf-figures") == 2
    x0, y0, width, height = (float(v) for v in svg.get("viewBox").split())
    for rect in (r for g in svg.iter(f"{SVG}g") if g.get("class") == "bf-figures" for r in g.iter(f"{SVG}rect")):
        x, y = float(rect.get("x")), float(rect.get("y"))
        assert x0 <= x and y0 <= y and x + float(rect.get("width")) <= x0 + width
        assert y + float(rect.get("height")) <= y0 + height


def test_without_an_overlay_nothing_changes():
    assert str(render(TRAVEL, "travel_application")) == str(render(TRAVEL, "travel_application", overlay=Overlay()))
    assert "bf-figures" not in str(render(TRAVEL, "travel_application"))
