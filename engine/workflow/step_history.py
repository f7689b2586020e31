"""Where each stored instance has been and waits now, read from its saved workflow state (for step statistics).

The state is SpiffWorkflow's JSON (``engine.workflow.serializer.STATE``); it is read as plain JSON, not
deserialised: statistics walk thousands of instances, and building every workflow object would cost about
ten times as much while telling nothing more. What the walk needs of the JSON is small and stable across
SpiffWorkflow's serializer versions: each task's spec name (the BPMN element id, or ``id [child]`` for a
multi-instance child), its state, its parent and children, and ``last_state_change`` (seconds since the epoch).

Timing rule: a task becomes ready when its parent task completes, so a finished task waited from its
parent's ``last_state_change`` to its own. The elements themselves (names, kinds, lanes, sequence flows)
come from the version's BPMN files, so the numbers can be drawn on the diagram they belong to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
GATEWAYS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
                      "complexGateway"})
SCOPES = frozenset({"subProcess", "transaction", "adHocSubProcess"})
FLOW_NODES = GATEWAYS | SCOPES | frozenset({
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask",
    "callActivity", "startEvent", "endEvent", "boundaryEvent", "intermediateCatchEvent", "intermediateThrowEvent"})
USER_KINDS = frozenset({"userTask", "manualTask"})
# SpiffWorkflow's TaskState values (SpiffWorkflow.util.task.TaskState); stored as these integers.
MAYBE, LIKELY, WAITING, READY, STARTED, COMPLETED = 1, 2, 8, 16, 32, 64
WAITING_NOW = WAITING | READY | STARTED
CHILD_SUFFIX = " [child]"
SPLIT_SUFFIX = ".BoundaryEventSplit"  # the engine's task in front of a task that has boundary events


@dataclass(frozen=True)
class Element:
    process_id: str  # the top-level process whose diagram draws it (an embedded subprocess's elements too)
    element_id: str
    name: str
    kind: str  # the BPMN tag: userTask, exclusiveGateway, ...
    lane: str | None


@dataclass(frozen=True)
class Flow:
    process_id: str
    flow_id: str
    source: str
    target: str
    name: str


@dataclass
class Model:
    """A version's elements and sequence flows, by process; ``scopes`` maps a subprocess id to its process."""

    elements: dict[tuple[str, str], Element] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    scopes: dict[str, str] = field(default_factory=dict)

    def outgoing(self, process_id: str, element_id: str) -> list[Flow]:
        return [f for f in self.flows if f.process_id == process_id and f.source == element_id]


@dataclass(frozen=True)
class Passage:
    """One task of one element in one instance: finished (``done_at`` set) or waiting there now."""

    process_id: str
    element_id: str
    task_guid: str
    ready_at: float | None  # seconds since the epoch
    done_at: float | None  # None: it waits there now


@dataclass(frozen=True)
class Branch:
    """A finished gateway task went on to ``target`` (the element at the end of one of its outgoing flows)."""

    process_id: str
    gateway: str
    target: str


@dataclass
class History:
    passages: list[Passage] = field(default_factory=list)
    branches: list[Branch] = field(default_factory=list)


class StateUnreadable(ValueError):
    """A stored state is not the workflow JSON this engine writes."""


# ---------------------------------------------------------------- the model, from the BPMN files

def read_model(files: dict[str, str]) -> Model:
    """Every process's flow nodes and sequence flows of a version's ``.bpmn`` files (unreadable files skipped:
    a deployed version passed the check, and statistics must not fail on one odd file)."""
    model = Model()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for name, text in sorted(files.items()):
        if not name.endswith(".bpmn"):
            continue
        try:
            root = etree.fromstring(text.encode("utf-8"), parser)
        except etree.XMLSyntaxError:
            continue
        for process in root.iter(f"{BPMN}process"):
            _read_process(model, process)
    return model


def _read_process(model: Model, process: Any) -> None:
    process_id = str(process.get("id") or "")
    model.scopes[process_id] = process_id
    lanes = {str(ref.text or "").strip(): str(lane.get("name") or lane.get("id") or "")
             for lane in process.iter(f"{BPMN}lane") for ref in lane.findall(f"{BPMN}flowNodeRef")}
    for node in process.iter():
        if not isinstance(node.tag, str) or not node.tag.startswith(BPMN) or not node.get("id"):
            continue
        kind, element_id = etree.QName(node).localname, str(node.get("id"))
        if kind in SCOPES:
            model.scopes[element_id] = process_id
        if kind in FLOW_NODES:
            model.elements[(process_id, element_id)] = Element(process_id, element_id, str(node.get("name") or ""),
                                                               kind, lanes.get(element_id))
        elif kind == "sequenceFlow":
            model.flows.append(Flow(process_id, element_id, str(node.get("sourceRef") or ""),
                                    str(node.get("targetRef") or ""), str(node.get("name") or "")))


# ---------------------------------------------------------------- one instance's state

def history(state_json: str, model: Model) -> History:
    """The passages and gateway branches of one instance's stored state (its subprocesses included)."""
    if not state_json:
        return History()  # created but never saved: it has been nowhere yet
    try:
        state = json.loads(state_json)
        process_id = str(state["spec_key"]).partition(":")[2]
        found = History()
        _walk(state, model.scopes.get(process_id, process_id), model, found)
        for sub in (state.get("subprocesses") or {}).values():
            spec = str(sub.get("spec") or "")
            _walk(sub, model.scopes.get(spec, spec), model, found)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StateUnreadable(f"the stored workflow state cannot be read: {exc}") from None
    return found


def _walk(workflow: dict[str, Any], process_id: str, model: Model, found: History) -> None:
    tasks: dict[str, dict[str, Any]] = workflow["tasks"]
    for guid, task in tasks.items():
        element = model.elements.get((process_id, task["task_spec"]))
        if element is None:  # the engine's own tasks (Start, End, joins of boundary events), multi-instance children
            continue
        state = int(task["state"])
        if state == COMPLETED:
            parent = tasks.get(task.get("parent") or "")
            ready = float(parent["last_state_change"]) if parent else None
            found.passages.append(Passage(process_id, element.element_id, guid, ready,
                                          float(task["last_state_change"])))
            if element.kind in GATEWAYS:
                found.branches += _branches(tasks, task, element, model)
        elif state & WAITING_NOW and element.kind != "boundaryEvent":  # a boundary event waits with its task
            found.passages.append(Passage(process_id, element.element_id, guid,
                                          float(task["last_state_change"]), None))


def _branches(tasks: dict[str, dict[str, Any]], gateway: dict[str, Any], element: Element,
              model: Model) -> list[Branch]:
    """The outgoing flows a finished gateway task took: its children that are more than a prediction."""
    targets = {f.target for f in model.outgoing(element.process_id, element.element_id)}
    taken = []
    for child_guid in gateway.get("children") or ():
        child = tasks.get(child_guid)
        if child is None or int(child["state"]) & (MAYBE | LIKELY):
            continue
        target = _first_element(tasks, child, element.process_id, model)
        if target in targets:
            taken.append(Branch(element.process_id, element.element_id, target))
    return taken


def _first_element(tasks: dict[str, dict[str, Any]], task: dict[str, Any], process_id: str,
                   model: Model) -> str | None:
    """The first BPMN element at or below ``task`` (a task with a boundary event sits under the engine's split)."""
    for _depth in range(4):
        name = str(task["task_spec"]).removesuffix(CHILD_SUFFIX).removesuffix(SPLIT_SUFFIX)
        if (process_id, name) in model.elements:
            return name
        children = task.get("children") or ()
        if not children or children[0] not in tasks:
            return None
        task = tasks[children[0]]
    return None
