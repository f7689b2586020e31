"""Stock SpiffWorkflow running the bundle's diagrams in memory: the fixed reference of issue 13.

The project's engine (runtime.py) swaps in its own service task, clocked timers and sandboxed script
engine; this runs the same files with the library's parts only: ``SpiffBpmnParser`` and its default
spec classes, a stock ``PythonScriptEngine`` over a stock ``TaskDataEnvironment``. What it adds is what
the library leaves to its host application:

- globals the diagrams' code uses (``Decimal``, the business helpers of the project's sandbox...);
- ``call_service``, the library's documented hook for service tasks, answered by an operator port;
- a known failure of an operator delivered as a BPMN error event through ``BpmnWorkflow.catch``.
  Stock ``PythonScriptEngine.call_service`` cannot raise one itself (3.2.0 turns any exception into a
  NameError on ``script``), so the run finds the operator's ``ConnectorError`` behind that and, when a
  boundary event catches its code, hands it to the workflow and runs on, as a host application would.

No persistence, no sandbox, no override of how the library walks its task tree. The bench times
lifecycles on it beside the project's engine (engine/bench/lifecycle.py), and
tests/workflow/test_stock_equivalence.py drives every path of the diagrams on both.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition, MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from connectors.base import ConnectorError
from engine.workflow import bundle as bundles
from engine.workflow.ports import OperatorCall, OperatorPort
from engine.workflow.scripts.helpers import BUSINESS_HELPERS
from engine.workflow.trail import completed_sequence, steps_taken

# The names the project's sandbox gives diagram code (scripts/namespace.py), as plain Python objects.
SCRIPT_GLOBALS: dict[str, Any] = {
    "Decimal": Decimal, "date": date, "datetime": datetime, "timedelta": timedelta, "timezone": timezone,
    "UTC": UTC, "ROUND_HALF_UP": ROUND_HALF_UP, "ROUND_HALF_EVEN": ROUND_HALF_EVEN, "ROUND_DOWN": ROUND_DOWN,
    "ROUND_UP": ROUND_UP, "math": math, "json": json, **BUSINESS_HELPERS,
}


class StockDiagrams:
    """The diagrams of a folder (the files ``bundle.read_folder`` reads) parsed once by the stock parser."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self.parser = SpiffBpmnParser(validator=VALIDATOR)
        for name, text in sorted(files.items()):  # forms are among the files: only diagrams are parsed
            if not name.endswith(bundles.DIAGRAM_SUFFIXES):
                continue
            tree = etree.fromstring(text.encode("utf-8"), parser=bundles.safe_parser())
            if name.endswith(".dmn"):
                self.parser.add_dmn_xml(tree, filename=name)
            else:
                self.parser.add_bpmn_xml(tree, filename=name)
        self.processes = {pid: (self.parser.get_spec(pid), self.parser.get_subprocess_specs(pid))
                          for pid in self.parser.get_process_ids()}

    @classmethod
    def read(cls, folder: Path) -> StockDiagrams:
        return cls(bundles.read_folder(folder))

    def sequence_flows(self, process_id: str) -> dict[str, tuple[str, str, str]]:
        """Every sequence flow of ``process_id`` and of the processes it calls: id -> (process, from, to)."""
        flows: dict[str, tuple[str, str, str]] = {}
        for pid in [process_id, *self.processes[process_id][1]]:
            for outgoing in self.parser.process_parsers[pid].outgoing_sequence_flows.values():
                for flow in outgoing:
                    flows[str(flow.get("id"))] = (pid, str(flow.get("sourceRef")), str(flow.get("targetRef")))
        return flows


class OperatorEnvironment(TaskDataEnvironment):
    """The stock task-data environment, whose ``call_service`` asks an operator port (answered at once)."""

    def __init__(self) -> None:
        super().__init__(dict(SCRIPT_GLOBALS))
        self.operators: OperatorPort | None = None

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> str:
        if self.operators is None:
            raise RuntimeError("no operator port: call StockRun.advance(operators)")
        params = {name: param["value"] for name, param in kwargs["operation_params"].items()}
        result = self.operators.call(OperatorCall(kwargs["operation_name"], params, "", "", context))
        if result is None:
            raise RuntimeError(f"{kwargs['operation_name']}: stock service tasks cannot wait for a deferred answer")
        return json.dumps(result, default=str)  # stock ServiceTask stores json.loads() of what this returns


@dataclass(frozen=True)
class StockTask:
    """A READY user task."""

    task_guid: str
    bpmn_id: str


class StockRun:
    """One workflow on stock SpiffWorkflow, with the calls the bench and the equivalence test make of
    ``WorkflowRun`` (start, advance, ready user tasks, complete, send a message, status, data)."""

    def __init__(self, workflow: BpmnWorkflow, environment: OperatorEnvironment) -> None:
        self.wf = workflow
        self.environment = environment

    @classmethod
    def start(cls, diagrams: StockDiagrams, process_id: str, data: dict[str, Any]) -> StockRun:
        spec, subprocess_specs = diagrams.processes[process_id]
        environment = OperatorEnvironment()
        wf = BpmnWorkflow(spec, subprocess_specs, script_engine=PythonScriptEngine(environment=environment))
        wf.task_tree.data.update(data)
        return cls(wf, environment)

    def advance(self, operators: OperatorPort) -> None:
        """Fire due timers and run every non-manual step until the workflow waits."""
        self.environment.operators = operators
        try:
            self.wf.refresh_timers()
            while True:
                try:
                    self.wf.do_engine_steps()
                    return
                except Exception as exc:
                    if not self._caught(exc):
                        raise
        finally:
            self.environment.operators = None

    def _caught(self, exc: BaseException) -> bool:
        """Deliver an operator's known failure to the boundary event that catches its code, if one does."""
        error = next((e for e in _chain(exc) if isinstance(e, ConnectorError)), None)
        if error is None:
            return False
        payload = {"code": error.code, "message": str(error), **error.payload}
        event = BpmnEvent(ErrorEventDefinition(error.code, code=error.code), payload=payload)
        if not self.wf.get_tasks(catches_event=event, state=TaskState.NOT_FINISHED_MASK):
            return False
        self.wf.catch(event)
        return True

    def ready_tasks(self) -> list[StockTask]:
        return [StockTask(str(t.id), str(t.task_spec.bpmn_id or t.task_spec.name))
                for t in self.wf.get_tasks(state=TaskState.READY, manual=True)]

    def task_data(self, task_guid: str) -> dict[str, Any]:
        return dict(self._task(task_guid).data)

    def complete(self, task_guid: str, fields: dict[str, Any]) -> None:
        """Fill a user task as ``WorkflowRun.complete`` does (each field replaces its variable) and run it."""
        task = self._task(task_guid)
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise ValueError(f"task {task.task_spec.bpmn_id} ({task_guid}) is not waiting for a person")
        variable = getattr(task.task_spec, "variable", None)
        task.data.update({variable: fields} if variable else fields)
        task.run()

    def send_message(self, name: str, payload: dict[str, Any]) -> bool:
        """Deliver a message; False if nothing waits for it."""
        event = BpmnEvent(MessageEventDefinition(name), payload=payload)
        if not self.wf.get_tasks(catches_event=event, state=TaskState.NOT_FINISHED_MASK):
            return False
        self.wf.catch(event)
        return True

    def status(self) -> str:
        if self.wf.is_completed():
            return "complete"
        if self.wf.get_tasks(state=TaskState.READY, manual=True):
            return "user_input_required"
        return "running" if self.wf.get_tasks(state=TaskState.READY) else "waiting"

    @property
    def data(self) -> dict[str, Any]:
        """The workflow's data when complete, else the data of the task that ran last."""
        if self.wf.is_completed():
            return dict(self.wf.data)
        return dict(self.wf.last_task.data) if self.wf.last_task else {}

    def completed(self) -> list[str]:
        """BPMN ids of the tasks completed so far, subprocesses included, in completion order."""
        return completed_sequence(self.wf)

    def steps(self) -> set[tuple[str, str, str]]:
        return steps_taken(self.wf)

    def _task(self, task_guid: str) -> Any:
        task = self.wf.get_task_from_id(UUID(task_guid))
        if task is None:
            raise ValueError(f"no task {task_guid} in this run")
        return task


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from or while handling."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__
