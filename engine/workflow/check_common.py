"""What every ``bpmn check`` rule shares: namespaces, the owner of a nested element, and the line format."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DI = "http://www.omg.org/spec/DD/20100524/DI"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF, "bpmndi": BPMNDI, "di": DI}


def local(element: Any) -> str:
    """The tag without its namespace ('' for comments and processing instructions)."""
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def element_id(element: Any) -> str:
    """An element's id as it goes into a line: never empty, never with a colon (the line's separator)."""
    value = element.get("id") if element is not None else None
    return one_line(str(value)).replace(":", "_") if value else "-"


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def suggest(word: str, known: Iterable[str]) -> str:
    """``did you mean 'x'? known: a, b, c`` -- the alternatives a message names."""
    options = sorted(set(known))
    close = difflib.get_close_matches(word or "", options, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}known: {', '.join(options)}"


def literal_string(text: str) -> str | None:
    """The value of a quoted string literal ('P2D' or "P2D"), else None."""
    text = text.strip()
    if len(text) >= 2 and text[0] in "'\"" and text[-1] == text[0] and text[0] not in text[1:-1]:
        return text[1:-1]
    return None
