"""The process picture: every shipped diagram draws, marks land on the right shapes, hostile XML is inert."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from web.diagram import DiagramUnavailable, Marks, render
from web.diagram_layout import wrap

BPMN_DIR = Path(__file__).resolve().parents[3] / "bpmn"
SVG = "{http://www.w3.org/2000/svg}"
TRAVEL = (BPMN_DIR / "travel_application" / "travel_application.bpmn").read_text()
NO_DI = re.sub(r"<bpmndi:BPMNDiagram.*</bpmndi:BPMNDiagram>", "",  # the fixture without its drawing
               (Path(__file__).resolve().parents[2] / "engine_fixtures" / "mini_timer.bpmn").read_text(), flags=re.S)


def parsed(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def element_group(svg: ET.Element, element_id: str) -> ET.Element:
    found = [g for g in svg.iter(f"{SVG}g") if g.get("data-element") == element_id]
    assert len(found) == 1, f"{element_id}: {len(found)} groups"
    return found[0]


@pytest.mark.parametrize("path", sorted(BPMN_DIR.rglob("*.bpmn")), ids=lambda p: p.name)
def test_every_shipped_diagram_draws_each_shape_and_edge(path: Path) -> None:
    text = path.read_text()
    svg = parsed(render(text))
    source = ET.fromstring(text)
    di = "{http://www.omg.org/spec/BPMN/20100524/DI}"
    flow_nodes = {s.get("bpmnElement") for s in source.iter(f"{di}BPMNShape")} - {
        e.get("id") for e in source.iter() if e.tag.endswith(("}lane", "}participant"))}
    drawn = {g.get("data-element") for g in svg.iter(f"{SVG}g") if g.get("data-element")}
    edges = {e.get("bpmnElement") for e in source.iter(f"{di}BPMNEdge")}
    assert flow_nodes | edges <= drawn
    assert svg.get("role") == "img" and svg.get("viewBox")
    assert len(list(svg.iter(f"{SVG}polyline"))) == len(edges)


def test_marks_become_classes_glyphs_and_words() -> None:
    marks = Marks.of(completed=["start_application", "fill_application"], current=["approval"],
                     taken_flows=["flow_start_application_to_fill_application"])
    svg = parsed(render(TRAVEL, "travel_application", marks=marks, prefix="doc1"))
    assert "bf-done" in element_group(svg, "fill_application").get("class", "")
    assert "bf-current" in element_group(svg, "approval").get("class", "")
    assert "bf-done" not in element_group(svg, "reserve_budget").get("class", "")
    assert "bf-taken" in element_group(svg, "flow_start_application_to_fill_application").get("class", "")
    assert "bf-taken" not in element_group(svg, "flow_fill_application_to_reserve_budget").get("class", "")
    badges = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "bf-badge"]
    assert sorted(badges) == ["▶", "✓", "✓"]  # state shown by shape, not colour alone
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert svg.get("aria-labelledby") == "doc1-title doc1-desc"
    assert title is not None and title.get("id") == "doc1-title" and title.text == "Travel / vehicle application"
    assert desc is not None and desc.text == ("Completed steps: Start, Fill travel / vehicle application. "
                                              "Current step: Approval chain.")


def labels(svg: ET.Element) -> str:
    return " ".join(t.text or "" for t in svg.iter(f"{SVG}tspan"))


def test_labels_follow_the_language() -> None:
    chinese = labels(parsed(render(TRAVEL, "travel_application", language="zh")))
    english = labels(parsed(render(TRAVEL, "travel_application", language="en")))
    assert "预算预占" in chinese and "Reserve" not in chinese
    assert "Reserve budget" in english and "预算" not in english


def test_a_process_without_diagram_interchange_is_unavailable_not_an_error_page() -> None:
    with pytest.raises(DiagramUnavailable, match="no diagram interchange"):
        render(NO_DI)
    with pytest.raises(DiagramUnavailable, match="'expense_claim'"):
        render(TRAVEL, "expense_claim")
    with pytest.raises(DiagramUnavailable, match="not a BPMN file"):
        render("<svg/>")
    with pytest.raises(DiagramUnavailable, match="not readable XML"):
        render("<bpmn:definitions")


def test_entities_are_not_expanded_and_names_are_escaped() -> None:
    hostile = TRAVEL.replace('<?xml version="1.0" encoding="UTF-8"?>',
                             '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>')
    in_text = hostile.replace("<bpmn:documentation>Applicant 申请人", "<bpmn:documentation>&secret;")
    assert "root:" not in str(render(in_text, "travel_application"))
    with pytest.raises(DiagramUnavailable):  # an entity in an attribute is refused outright
        render(hostile.replace('name="Reserve budget 预算预占"', 'name="&secret;"'), "travel_application")
    scripted = TRAVEL.replace('name="Reserve budget 预算预占"', 'name="&lt;script&gt;x&lt;/script&gt;"')
    out = str(render(scripted, "travel_application"))
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_wrap_breaks_latin_at_spaces_and_cjk_anywhere() -> None:
    assert wrap("Fill travel / vehicle application", 92, 5) == ["Fill travel", "/ vehicle", "application"]
    assert wrap("填写出差申请", 30, 5) == ["填写", "出差", "申请"]
    assert wrap("one two three four five six", 40, 2) == ["one", "tw…"]


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=80),
       st.integers(min_value=20, max_value=200), st.integers(min_value=1, max_value=6))
def test_wrap_never_loses_words_or_overflows_its_line_count(text: str, width: int, lines: int) -> None:
    out = wrap(text, width, lines)
    assert len(out) <= lines
    if out and not out[-1].endswith("…"):
        assert "".join(out).replace(" ", "") == "".join(text.split())
