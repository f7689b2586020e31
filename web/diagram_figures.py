"""Step statistics drawn on the process picture (web/diagram.py): a box of figures by a shape, a share on a flow."""

from __future__ import annotations

import itertools
from xml.etree import ElementTree as ET  # noqa: S405 - builds our own output

from web.diagram_layout import FONT, Box, text_width

FIGURE_FONT = 11
FIGURE_INK, FIGURE_PAPER, FIGURE_EDGE = "#0b3d91", "#eef4ff", "#0b3d91"  # presentation attributes: no CSS needed


def figures(group: ET.Element, box: Box, lines: list[str]) -> Box:
    """A small box of figure lines just above the shape's top-left corner (labels of events sit below)."""
    line_height = FIGURE_FONT * 1.25
    width = max(text_width(line) * FIGURE_FONT / FONT for line in lines) + 8
    where = Box(box.x, box.y - 4 - line_height * len(lines) - 4, width, line_height * len(lines) + 4)
    _figure_box(group, where, lines, line_height)
    return where


def flow_figure(group: ET.Element, points: list[tuple[float, float]], text: str) -> Box:
    """The share of a gateway's way out, on the middle of its flow."""
    x, y = _halfway(points)
    width = text_width(text) * FIGURE_FONT / FONT + 8
    where = Box(x - width / 2, y - FIGURE_FONT, width, FIGURE_FONT * 1.25 + 4)
    _figure_box(group, where, [text], FIGURE_FONT * 1.25)
    return where


def _figure_box(group: ET.Element, where: Box, lines: list[str], line_height: float) -> None:
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


