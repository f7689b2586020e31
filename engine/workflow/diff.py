"""What changed between two bundles of diagrams: elements of each process and rules of each DMN decision.

A designer compares a draft with the active version (or two versions) before activating it. Elements are
matched by id: an element is *changed* when anything it carries differs (attributes, its condition, script,
timer, the operator parameters in its extension elements, a lane's members), and the change names what
(``name``, ``conditionExpression``, ``script``...). Diagram interchange (positions on the canvas) is ignored:
moving a shape changes no behaviour. Parsing uses lxml only (no SpiffWorkflow), so a draft that does not
parse is reported, not raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

# Elements whose children with an id are elements of their own (not details of the container).
_CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess", "laneSet", "lane"}


def _parser() -> etree.XMLParser:
    """No entities, no network: a draft is text from anyone."""
    return etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)


@dataclass(frozen=True)
class Element:
    id: str
    type: str  # the BPMN tag without its namespace: userTask, sequenceFlow, lane...
    name: str
    parts: dict[str, str]  # what the element carries, by aspect: "@attr" -> value, child tag -> canonical XML


@dataclass
class Section:
    """The differences of one process (``kind`` "process") or one DMN decision (``kind`` "decision")."""

    kind: str
    id: str
    file: str
    status: str  # added, removed or changed
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class BundleDiff:
    sections: list[Section]
    files_added: list[str]
    files_removed: list[str]
    files_changed: list[str]  # every file whose text differs (forms included)
    unreadable: list[str]  # "file: why" for a diagram that does not parse (its contents are not compared)

    @property
    def empty(self) -> bool:
        return not (self.sections or self.files_added or self.files_removed or self.files_changed)


def diff(old: dict[str, str], new: dict[str, str]) -> BundleDiff:
    """The differences from bundle ``old`` to bundle ``new`` (relative path -> text)."""
    unreadable: list[str] = []
    old_items, new_items = _items(old, unreadable), _items(new, unreadable)
    broken = {problem.split(": ", 1)[0] for problem in unreadable}
    sections = []
    for key in sorted(set(old_items) | set(new_items)):
        section = _section(key, old_items.get(key), new_items.get(key))
        if section is not None and section.file not in broken:  # unread is not removed
            sections.append(section)
    return BundleDiff(
        sections=sections, files_added=sorted(set(new) - set(old)), files_removed=sorted(set(old) - set(new)),
        files_changed=sorted(name for name in set(old) & set(new) if old[name] != new[name]),
        unreadable=sorted(set(unreadable)))


# (kind, id) -> (file, {element or rule id: Element})
_Items = dict[tuple[str, str], tuple[str, dict[str, Element]]]


def _items(files: dict[str, str], unreadable: list[str]) -> _Items:
    found: _Items = {}
    for name in sorted(files):
        if not name.endswith((".bpmn", ".dmn")):
            continue
        try:
            root = etree.fromstring(files[name].encode("utf-8"), _parser())
        except (etree.XMLSyntaxError, ValueError) as exc:
            unreadable.append(f"{name}: {' '.join(str(exc).split())[:200]}")
            continue
        for process in (e for e in root.iter() if _tag(e) == "process" and e.get("id")):
            found[("process", process.get("id", ""))] = (name, _elements(process))
        for decision in (e for e in root.iter() if _tag(e) == "decision" and e.get("id")):
            found[("decision", decision.get("id", ""))] = (name, _rules(decision))
    return found


def _elements(container: Any) -> dict[str, Element]:
    """Every element with an id inside ``container``, nested containers walked."""
    found: dict[str, Element] = {}
    for child in container:
        if not isinstance(child.tag, str) or not child.get("id"):
            continue
        tag = _tag(child)
        nested = tag in _CONTAINERS
        found[child.get("id")] = Element(child.get("id"), tag, child.get("name") or "", _parts(child, nested))
        if nested:
            found.update(_elements(child))
    return found


def _parts(element: Any, nested: bool) -> dict[str, str]:
    parts = {f"@{_local(k)}": str(v) for k, v in element.attrib.items() if _local(k) != "id"}
    text = " ".join((element.text or "").split())
    if text:
        parts["text"] = text
    for child in element:
        if not isinstance(child.tag, str) or (nested and child.get("id") and _tag(child) in _FLOW_LIKE):
            continue
        key = _tag(child)
        parts[key] = parts.get(key, "") + _canonical(child)
    return parts


# Children of a container that are elements of their own (reported apart, not as the container's change).
_FLOW_LIKE = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
              "task", "userTask", "manualTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask",
              "receiveTask", "callActivity", "subProcess", "transaction", "adHocSubProcess", "exclusiveGateway",
              "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway", "sequenceFlow",
              "laneSet", "lane", "dataObject", "dataObjectReference", "dataStoreReference", "textAnnotation",
              "association"}


def _rules(decision: Any) -> dict[str, Element]:
    """The rules of a decision's table by id; each rule's cells (inputs, then outputs) as its parts."""
    found: dict[str, Element] = {}
    table = next((e for e in decision if _tag(e) == "decisionTable"), None)
    if table is None:
        return found
    columns = [(e.get("label") or _text_of(e, "text") or e.get("id") or "?") for e in table if _tag(e) == "input"]
    columns += [(e.get("name") or e.get("label") or e.get("id") or "?") for e in table if _tag(e) == "output"]
    found["(table)"] = Element("(table)", "decisionTable", "", {
        "@hitPolicy": table.get("hitPolicy") or "UNIQUE", "columns": " | ".join(columns)})
    for number, rule in enumerate(e for e in table if _tag(e) == "rule"):
        cells = [_text_of(cell, "text") for cell in rule if _tag(cell) in ("inputEntry", "outputEntry")]
        rule_id = rule.get("id") or f"(rule {number + 1})"
        found[rule_id] = Element(rule_id, "rule", _text_of(rule, "description")[:80],
                                 {f"{column}": cell for column, cell in zip(_padded(columns, cells), cells,
                                                                            strict=True)})
    return found


def _padded(columns: list[str], cells: list[str]) -> list[str]:
    """Column names for ``cells``: a rule with more cells than columns still names each (``#n``)."""
    return [columns[n] if n < len(columns) else f"#{n + 1}" for n in range(len(cells))]


def _section(key: tuple[str, str], old: tuple[str, dict[str, Element]] | None,
             new: tuple[str, dict[str, Element]] | None) -> Section | None:
    kind, item_id = key
    file = (new or old or ("?", {}))[0]
    before, after = (old or ("", {}))[1], (new or ("", {}))[1]
    section = Section(kind, item_id, file, "added" if old is None else "removed" if new is None else "changed")
    section.added = [_shown(kind, after[i]) for i in after if i not in before]
    section.removed = [_shown(kind, before[i]) for i in before if i not in after]
    for i in after:
        if i in before and before[i].parts != after[i].parts:
            what = sorted(k for k in set(before[i].parts) | set(after[i].parts)
                          if before[i].parts.get(k) != after[i].parts.get(k))
            section.changed.append({**_shown(kind, after[i]), "what": what,
                                    **({"before": _cells(before[i])} if kind == "decision" else {})})
    if section.status == "changed" and not (section.added or section.removed or section.changed):
        return None
    return section


def _shown(kind: str, element: Element) -> dict[str, Any]:
    shown: dict[str, Any] = {"id": element.id, "type": element.type, "name": element.name}
    if kind == "decision":
        shown["cells"] = _cells(element)
    return shown


def _cells(element: Element) -> dict[str, str]:
    return dict(element.parts)


def _canonical(element: Any) -> str:
    """The element's XML without the namespace prefixes' spelling or whitespace between tags mattering."""
    copy = etree.fromstring(etree.tostring(element))
    for node in copy.iter():
        if isinstance(node.tag, str):
            node.text = " ".join(node.text.split()) if node.text else node.text
            node.tail = None
    return etree.tostring(copy, method="c14n").decode("utf-8")


def _text_of(element: Any, tag: str) -> str:
    child = next((c for c in element if isinstance(c.tag, str) and _tag(c) == tag), None)
    return " ".join((child.text or "").split()) if child is not None else ""


def _tag(element: Any) -> str:
    return _local(element.tag) if isinstance(element.tag, str) else ""


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def lines(result: BundleDiff) -> list[str]:
    """The diff as lines for a person: ``+``, ``-`` and ``~`` per element or rule, by file and process."""
    out = [f"! {problem}" for problem in result.unreadable]
    for section in result.sections:
        out.append(f"{section.file}:{section.id}: {section.kind} {section.status}")
        for sign, items in (("+", section.added), ("-", section.removed), ("~", section.changed)):
            for item in items:
                out.append(f"  {sign} {_describe(section.kind, item)}")
    forms = [name for name in result.files_changed if not name.endswith((".bpmn", ".dmn"))]
    for sign, names in (("+", result.files_added), ("-", result.files_removed), ("~", forms)):
        out.extend(f"{sign} file {name}" for name in names)
    return out


def _describe(kind: str, item: dict[str, Any]) -> str:
    label = f"{item['id']} ({item['type']}{', ' + repr(item['name']) if item['name'] else ''})"
    if kind == "decision" and item["type"] == "rule":
        if "before" in item:  # only the cells that differ
            was, now = item["before"], item["cells"]
            return f"{label}: " + "; ".join(f"{k}: {was.get(k, '')} -> {now.get(k, '')}" for k in item["what"])
        return f"{label}: " + "; ".join(f"{k}: {v}" for k, v in item["cells"].items())
    return label + (f": {', '.join(item['what'])} differ" if item.get("what") else "")
