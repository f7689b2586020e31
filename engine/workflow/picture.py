"""The process picture: which diagram file draws a document's process, and where its run has been.

The web app draws the BPMN file with its diagram interchange and marks ``completed`` elements, the
``current`` ones and the ``taken_flows`` (the sequence flows between an element and the next one it led to).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from engine.workflow.bundle import BPMN, Bundle
from engine.workflow.errors import BundleInvalid
from engine.workflow.runtime import WorkflowRun


@dataclass(frozen=True)
class Picture:
    bpmn_xml: str  # the deployed file holding the process (with its diagram interchange)
    process_id: str
    completed: list[str] = field(default_factory=list)  # BPMN ids of finished elements, in order
    current: list[str] = field(default_factory=list)  # ready or waiting elements
    taken_flows: list[str] = field(default_factory=list)  # sequence flow ids the run went along


def picture(bundle: Bundle, run: WorkflowRun | None, process_id: str) -> Picture:
    """``process_id``'s diagram with the run's path marked (an unmarked diagram when there is no run)."""
    try:
        spec, _ = bundle.spec(process_id)
    except BundleInvalid:  # the document's process is not in its own bundle: nothing to draw
        return Picture("", process_id)
    xml = bundle.files.get(str(getattr(spec, "file", "") or ""), "")
    if run is None or not xml:
        return Picture(xml, process_id)
    path = run.path()
    flows = _flows(xml, process_id)
    taken = [flows[step] for step in path.steps if step in flows]
    return Picture(xml, process_id, path.completed, path.current, taken)


def _flows(xml: str, process_id: str) -> dict[tuple[str, str], str]:
    """(source id, target id) -> sequence flow id, for the flows of ``process_id``."""
    tree = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    found: dict[tuple[str, str], str] = {}
    for process in tree.iter(f"{BPMN}process"):
        if process.get("id") != process_id:
            continue
        for flow in process.iter(f"{BPMN}sequenceFlow"):
            found.setdefault((flow.get("sourceRef") or "", flow.get("targetRef") or ""), flow.get("id") or "")
    return found
