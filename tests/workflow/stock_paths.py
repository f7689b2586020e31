"""Paths through the shipped diagrams, generated from the diagrams themselves, driven alike on any engine.

A path is a script of choices. Choices come up at two kinds of point:

- a wait state (``wait:<first READY user task>[countersigner]``): a decision of that task's form (every ``const`` of its
  ``decision`` field: approve, reject, send back), the applicant's form for the fill tasks, a message
  something waits for (withdraw), or firing a waiting timer (reminder, SLA escalation);
- an operator call (``op:<operator>``): the plain answer, a variant of it (over budget, an overrun) or each
  error code a boundary event of the diagrams catches for that operator (a duplicate invoice...).

``drive`` replays a script on one engine and takes the first option wherever the script has run out,
recording every point met with its options (``Step``). ``explore`` is a depth-first search over those
points: it runs the reference engine, and for every point on the run where the first option was taken
queues the same script with each other option instead, unless that option at that point was already
queued for the same DMN route, or the path already deviates ``deviations`` times from the first options
(the depth bound). Every non-default option may be taken once per path, which bounds the loops (send
back, correct a duplicate invoice, retry a posting); a path also stops after ``max_waits`` wait states.

The start data are choices too (countersigners named or not; a claim on its own reservation or linked
to an application's), and so is the applicant's first form: one per rule of the DMN table, with values
that make that rule match (the first rule, the longest approval chain, is the default path).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions import ErrorEventDefinition, MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from connectors.base import ConnectorError
from engine.bench.lifecycle import BPMN, InstantOperators
from engine.workflow.bundle import read_folder, resolve_form_path
from engine.workflow.ports import OperatorCall
from engine.workflow.stock import StockDiagrams
from engine.workflow.trail import completed_sequence, steps_taken

PROCESSES = ("travel_application", "expense_claim")
FILL_TASKS = {"fill_application", "fill_claim"}  # the applicant's form: one per DMN route
START = {"currency": "CNY", "period": "2026", "applicant": "E0017", "org_unit": "SALES-N"}
COUNTERSIGNERS = ["E0201", "E0202"]
LINKED = {"application_no": "TA-0001", "reservation_id": 7}
WITHDRAW_PAYLOAD = {"reason": "plans changed"}
# Variants of an operator's plain answer that steer a gateway (the operator contract, bpmn/README.md).
ANSWER_VARIANTS: dict[str, dict[str, dict[str, Any]]] = {
    "budget/Reserve": {"over_budget": {"over_budget": True}},
    "budget/ReserveClaim": {"over_budget": {"over_budget": True}},
    "budget/CheckOverrun": {"overrun": {"overrun": True, "excess": "83.50"}},
}
# The DMN inputs, by their expression, and the form field that feeds each.
DMN_INPUT_FIELDS = {"subject": "subject", "amount_value": "amount"}
DEFAULT_FIELDS = {"subject": "TRAVEL", "amount": "1200.00"}


class Engine(Protocol):
    """What the driver asks of WorkflowRun and of StockRun alike."""

    wf: Any

    def advance(self, operators: Any) -> None: ...
    def ready_tasks(self) -> Sequence[Any]: ...
    def task_data(self, task_guid: str) -> dict[str, Any]: ...
    def complete(self, task_guid: str, fields: dict[str, Any]) -> None: ...
    def send_message(self, name: str, payload: dict[str, Any]) -> bool: ...
    def status(self) -> str: ...
    @property
    def data(self) -> dict[str, Any]: ...


Start = Callable[[str, dict[str, Any]], Engine]


# ---------------------------------------------------------------- start data and forms from the diagrams


def dmn_routes(folder: Path = BPMN) -> dict[str, dict[str, str]]:
    """rule id -> form fields that make the rule match, for every rule of every decision table."""
    routes = {}
    for path in sorted(folder.rglob("*.dmn")):
        tree = etree.parse(str(path))
        ns = {"d": tree.getroot().nsmap[None]}
        inputs = [(t.text or "").strip() for t in tree.iterfind(".//d:input/d:inputExpression/d:text", ns)]
        unknown = set(inputs) - set(DMN_INPUT_FIELDS)
        assert not unknown, f"{path.name}: no form field known for DMN input(s) {sorted(unknown)}"
        for rule in tree.iterfind(".//d:rule", ns):
            fields = dict(DEFAULT_FIELDS)
            for expression, entry in zip(inputs, rule.iterfind("d:inputEntry", ns), strict=True):
                cell = (entry.findtext("d:text", namespaces=ns) or "").strip()
                name = DMN_INPUT_FIELDS[expression]
                fields[name] = _satisfying(cell, fields[name], f"{path.name}:{entry.get('id')}")
            routes[str(rule.get("id"))] = fields
    return routes


def _satisfying(cell: str, default: str, where: str) -> str:
    """A value the cell matches: ``-`` any, ``"TEXT"`` that text, ``> N`` N + 1, ``< N`` N - 1."""
    if cell in ("", "-"):
        return default
    if re.fullmatch(r'"[^"]*"', cell):
        return cell[1:-1]
    found = re.fullmatch(r"([<>]=?)\s*(\d+)", cell)
    assert found, f"{where}: no value known to match the cell {cell!r}: teach stock_paths._satisfying"
    operator, number = found.groups()
    value = int(number) + {">": 1, ">=": 0, "<": -1, "<=": 0}[operator]
    return f"{value}.00"


ROUTES = dmn_routes()


def applicant_form(process_id: str, fields: dict[str, str]) -> dict[str, Any]:
    """The applicant's form for a route: an application, or a claim of one line."""
    common = {"subject": fields["subject"], "currency": "CNY", "period": "2026"}
    if process_id == "travel_application":
        return {**common, "purpose": "visit", "amount": fields["amount"]}
    line = {"subject": fields["subject"], "amount": fields["amount"], "tax": "0.00", "invoice_code": "0110",
            "invoice_number": "1"}
    return {**common, "purpose": "trip", "lines": [line]}


def start_data(process_id: str, chooser: Chooser) -> dict[str, Any]:
    """What processes.start sets: whether countersigners are named, and whether a claim draws on an
    application's reservation; both are choices."""
    named = chooser.choose("start:countersigners", ["named", "nobody"], None) == "named"
    data = {**START, "countersigners": list(COUNTERSIGNERS) if named else [], "document_no": "DOC-0001"}
    if process_id == "expense_claim" and chooser.choose("start:reservation", ["own", "linked"], None) == "linked":
        data.update(LINKED)
    return data


# ---------------------------------------------------------------- choices


@dataclass(frozen=True)
class Step:
    """One choice point met on a path: its options, the one taken, and what the engine showed there."""

    point: str
    options: tuple[str, ...]
    taken: int
    seen: Any  # an operator's parameters, or the data of the user task acted on


class Chooser:
    """Replays a script of option indexes; past its end takes the first option. Records every step."""

    def __init__(self, script: Sequence[int]) -> None:
        self.script = list(script)
        self.steps: list[Step] = []
        self.used: set[str] = set()  # non-default options taken on this path (each may be taken once)
        self.applicant_form: dict[str, Any] | None = None  # the route chosen at the first fill, resubmitted after

    def choose(self, point: str, options: Sequence[str], seen: Any) -> str:
        offered = tuple(o for i, o in enumerate(options) if i == 0 or f"{point}={o}" not in self.used)
        index = len(self.steps)
        taken = self.script[index] if index < len(self.script) else 0
        self.steps.append(Step(point, offered, taken, seen))
        if taken:
            self.used.add(f"{point}={offered[taken]}")
        return offered[taken]


class ScriptedOperators:
    """Operators that answer at once, the answer being a choice (plain, a variant, a caught error code)."""

    def __init__(self, chooser: Chooser, errors: dict[str, list[str]]) -> None:
        self.chooser = chooser
        self.errors = errors

    def call(self, call: OperatorCall) -> dict[str, Any]:
        variants = ANSWER_VARIANTS.get(call.operator, {})
        options = ["ok", *variants, *(f"error:{code}" for code in self.errors.get(call.operator, []))]
        answer = self.chooser.choose(f"op:{call.operator}", options, json.loads(json.dumps(call.params, default=str)))
        if answer.startswith("error:"):
            code = answer.removeprefix("error:")
            raise ConnectorError(code, f"{call.operator} refused: {code}", operator=call.operator)
        return {**InstantOperators.RESULTS[call.operator], **variants.get(answer, {})}


def caught_errors(diagrams: StockDiagrams) -> dict[str, list[str]]:
    """operator -> the error codes a boundary event attached to one of its service tasks catches."""
    found: dict[str, set[str]] = {}
    for spec, subprocess_specs in diagrams.processes.values():
        for process in (spec, *subprocess_specs.values()):
            for split in process.task_specs.values():
                if type(split).__name__ != "BoundaryEventSplit":
                    continue
                attached, *events = split.outputs
                operator = getattr(attached, "operation_name", None)
                for event in events:
                    if operator and isinstance(event.event_definition, ErrorEventDefinition):
                        found.setdefault(operator, set()).add(str(event.event_definition.code))
    return {operator: sorted(codes) for operator, codes in found.items()}


# ---------------------------------------------------------------- driving one path


@dataclass
class Outcome:
    steps: list[Step]
    completed: list[str]
    status: str
    data: dict[str, Any]
    flows: set[tuple[str, str, str]] = field(repr=False)


def drive(start: Start, process_id: str, script: Sequence[int], errors: dict[str, list[str]],
          max_waits: int = 30) -> Outcome:
    chooser = Chooser(script)
    operators = ScriptedOperators(chooser, errors)
    run = start(process_id, start_data(process_id, chooser))
    run.advance(operators)
    for _ in range(max_waits):
        if run.status() == "complete":
            break
        act = _wait_choice(run, process_id, chooser)
        if act is None:
            break
        act()
        run.advance(operators)
    return Outcome(chooser.steps, completed_sequence(run.wf), run.status(), run.data, steps_taken(run.wf))


def _wait_choice(run: Engine, process_id: str, chooser: Chooser) -> Callable[[], Any] | None:
    """Offer what can happen at this wait state, take the chooser's pick, and return how to do it."""
    ready = run.ready_tasks()
    actions: dict[str, Callable[[], Any]] = {}
    seen: Any = None
    if ready:
        task = ready[0]  # the others wait their turn: a countersign's approvers act one after another
        seen = run.task_data(task.task_guid)
        for label, form in _forms(run.wf, task, process_id, chooser).items():
            actions[label] = lambda guid=task.task_guid, form=form: run.complete(guid, copy.deepcopy(form))
    for name in _waiting_messages(run.wf):
        actions[f"message:{name}"] = lambda name=name: run.send_message(name, dict(WITHDRAW_PAYLOAD))
    for bpmn_id in _waiting_timers(run.wf):
        actions[f"timer:{bpmn_id}"] = lambda bpmn_id=bpmn_id: make_timer_due(run.wf, bpmn_id)
    if not actions:
        return None
    point = f"wait:{ready[0].bpmn_id if ready else '-'}"
    if isinstance(seen, dict) and isinstance(seen.get("approver"), str):  # each countersigner decides apart
        point += f"[{seen['approver']}]"
    label = chooser.choose(point, list(actions), seen)
    if ready and ready[0].bpmn_id in FILL_TASKS and chooser.applicant_form is None:
        chooser.applicant_form = applicant_form(process_id, ROUTES[label])
    return actions[label]


def _forms(wf: Any, task: Any, process_id: str, chooser: Chooser) -> dict[str, dict[str, Any]]:
    """label -> form: for the applicant, one form per DMN route the first time and the same one after; one
    per decision of a decision form; else the form's required text fields filled in."""
    if task.bpmn_id in FILL_TASKS:
        if chooser.applicant_form is not None:
            return {"resubmit": chooser.applicant_form}
        return {rule: applicant_form(process_id, fields) for rule, fields in ROUTES.items()}
    schema = _form_schema(wf, task.task_guid)
    decision = schema.get("properties", {}).get("decision", {})
    if decision.get("oneOf"):
        return {choice["const"]: {"decision": choice["const"], "comment": f"{choice['const']} noted"}
                for choice in decision["oneOf"]}
    required = schema.get("required", [])
    odd = [name for name in required if schema["properties"][name].get("type") != "string"]
    assert not odd, f"{task.bpmn_id}: do not know how to fill {odd}"
    return {"fill": {name: "done" for name in required}}


_FILES = read_folder(BPMN)


def _form_schema(wf: Any, task_guid: str) -> dict[str, Any]:
    task = next(t for t in wf.get_tasks(state=TaskState.READY, manual=True) if str(t.id) == task_guid)
    form_name = task.task_spec.extensions.get("properties", {}).get("formJsonSchemaFilename")
    path = resolve_form_path(_FILES, str(task.workflow.spec.file), form_name)
    assert path, f"{task.task_spec.bpmn_id}: form {form_name} not found"
    return dict(json.loads(_FILES[path]))


def _waiting(wf: Any, kind: type) -> Iterator[Any]:
    for task in wf.get_tasks(state=TaskState.WAITING):
        if isinstance(getattr(task.task_spec, "event_definition", None), kind):
            yield task


def _waiting_messages(wf: Any) -> list[str]:
    return sorted({str(t.task_spec.event_definition.name) for t in _waiting(wf, MessageEventDefinition)})


def _waiting_timers(wf: Any) -> list[str]:
    """Timers that have read their due time (the engine set ``event_value``) and not fired for good."""
    return sorted({str(t.task_spec.bpmn_id) for t in _waiting(wf, TimerEventDefinition)
                   if t.internal_data.get("event_value") is not None})


def make_timer_due(wf: Any, bpmn_id: str) -> None:
    """Move a waiting timer's due time one second into the past; the next advance fires it.

    Why this fires identically on both engines: both read the due time from the task's ``event_value``
    (a date for a duration, ``{"next": date, ...}`` for a cycle) against the real clock (the project's
    clocked timers fall back to it: nothing passes ``now``). A cycle fired one second late counts one
    occurrence on both; the project's coalescing also writes ``timer_overdue`` = "" (under a minute late),
    the value set_approval_policy already gave it, so the data stay equal.
    """
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    for task in _waiting(wf, TimerEventDefinition):
        if task.task_spec.bpmn_id == bpmn_id:
            value = task.internal_data["event_value"]
            if isinstance(value, dict):
                value["next"] = past
            else:
                task.internal_data["event_value"] = past


# ---------------------------------------------------------------- the search


@dataclass(frozen=True)
class DrivenPath:
    process_id: str
    script: tuple[int, ...]
    reference: Outcome


def explore(start: Start, errors: dict[str, list[str]], deviations: int = 3,
            processes: Sequence[str] = PROCESSES) -> list[DrivenPath]:
    """Depth-first over the choices of each process, each (route, point, option) queued once (module doc)."""
    paths = []
    for process_id in processes:
        claimed: set[tuple[str, str, str]] = set()
        stack: list[tuple[int, ...]] = [()]
        while stack:
            script = stack.pop()
            outcome = drive(start, process_id, script, errors)
            paths.append(DrivenPath(process_id, script, outcome))
            if sum(1 for i in script if i) >= deviations:
                continue
            taken = [s.taken for s in outcome.steps]
            for position in range(len(outcome.steps) - 1, len(script) - 1, -1):
                step, route = outcome.steps[position], _route(outcome.steps[:position])
                for option in range(1, len(step.options)):
                    if (route, step.point, step.options[option]) not in claimed:
                        claimed.add((route, step.point, step.options[option]))
                        stack.append((*taken[:position], option))
    return paths


def _route(steps: Sequence[Step]) -> str:
    """The DMN route the applicant's first form took among ``steps`` ("-" before it)."""
    for step in steps:
        if step.point.removeprefix("wait:") in FILL_TASKS:
            return step.options[step.taken]
    return "-"
