"""Boxes and text inside them, for the process picture (web/diagram.py): widths, wrapping, label blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree import ElementTree as ET  # noqa: S405 - builds our own output

FONT = 13
_TOKEN = re.compile(r"[\u2e80-\uffff]|[^\s\u2e80-\uffff]+\s*|\s+")


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float


def text_width(text: str) -> float:
    """Rough width at FONT px: CJK ideographs are square, Latin letters a little over half as wide."""
    return sum(FONT if ord(ch) > 0x2E7F else FONT * 0.56 for ch in text)


def wrap(text: str, width: float, max_lines: int) -> list[str]:
    """Lines no wider than ``width``: Latin breaks at spaces, CJK anywhere; an ellipsis when cut."""
    lines: list[str] = []
    current = ""
    for token in _tokens(text):
        candidate = current + token if current else token.lstrip()
        if current and text_width(candidate) > width:
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


def text_block(group: ET.Element, box: Box, text: str, *, anchor_top: bool) -> None:
    line_height = FONT * 1.2
    lines = wrap(text, box.w, max(1, int(box.h // line_height)) if not anchor_top else 3)
    top = box.y + FONT if anchor_top else box.y + (box.h - line_height * len(lines)) / 2 + FONT
    node = ET.SubElement(group, "text", x=f"{box.x + box.w / 2:g}", y=f"{top:g}")
    node.set("class", "bf-label")
    node.set("text-anchor", "middle")
    for n, line in enumerate(lines):
        span = ET.SubElement(node, "tspan", x=f"{box.x + box.w / 2:g}", dy="0" if n == 0 else f"{line_height:g}")
        span.text = line
