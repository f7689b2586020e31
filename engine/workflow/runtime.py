"""One running workflow: the small surface the services need, free of SpiffWorkflow types."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from connectors.base import ConnectorError
from engine.domain.forms import plain_json_problems
from engine.workflow.bundle import Bundle
from engine.workflow.engine_workflow import EngineWorkflow
from engine.workflow.errors import StepFailed, TaskNotReady, outside_the_instance
from engine.workflow.failure_site import locate
from engine.workflow.instructions import render_instructions
from engine.workflow.ports import OperatorPort
from engine.workflow.serializer import STATE
from engine.workflow.service_tasks import DispatchingScriptEngine, throw_bpmn_error

# A user task's ``spiffworkflow:property name="notify"``: when its people get an OA work notification.
# ``on_open``: as soon as the task opens (bpmn/README.md, "User tasks and forms").
NOTIFY_PROPERTY = "notify"
NOTIFY_ON_OPEN = "on_open"
NOTIFY_VALUES = (NOTIFY_ON_OPEN,)


@dataclass(frozen=True)
class ReadyTask:
    """A READY user task as the inbox needs it."""

    task_guid: str
    bpmn_id: str
    name: str
    lane: str | None
    process_id: str
    form_key: str | None
    approver: str | None  # a multi-instance child's input item (countersign)
    lane_owners: list[str] | None  # a diagram-set override of the lane's candidates
    due_at: datetime | None = None  # when the task's interrupting timer (its SLA) fires
    diagram_file: str = ""  # the bundle file the task's process comes from (forms resolve beside it)
    notify_on_open: bool = False  # the designer asked for a work notification when the task opens


def _sla_due(task: Any) -> datetime | None:
    """The due time of an interrupting boundary timer on ``task`` (its SLA), if it has one."""
    parent = task.parent
    if parent is None or type(parent.task_spec).__name__ != "BoundaryEventSplit":
        return None
    due = []
    for sibling in parent.children:
        value = sibling.internal_data.get("event_value")
        if getattr(sibling.task_spec, "cancel_activity", False) and isinstance(value, str):
            try:
                due.append(TimerEventDefinition.get_datetime(value))
            except ValueError:
                continue
    return min(due) if due else None


@dataclass(frozen=True)
class TaskForm:
    """What a person sees of a user task: its form (resolved beside ``diagram_file``), data and instructions."""

    diagram_file: str
    form_key: str | None
    data: dict[str, Any]
    instructions: str


@dataclass(frozen=True)
class RunPath:
    """The top process's elements by BPMN id: finished (in order), current, and the (from, to) steps taken."""

    process_id: str
    completed: list[str]
    current: list[str]
    steps: list[tuple[str, str]]


@dataclass(frozen=True)
class StepEvent:
    """A task the engine completed on its own (script, gateway, service, event): for the audit."""

    task_guid: str
    bpmn_id: str
    kind: str
    state: str


def _element(task: Any) -> str:
    spec = getattr(task, "task_spec", None)
    return str(getattr(spec, "bpmn_id", None) or getattr(spec, "name", None) or "-")


class WorkflowRun:
    """Every call that runs engine work raises StepFailed (naming the element) for anything that goes wrong
    inside it, so the services can tell "this instance failed" from a refusal or a database error."""

    def __init__(self, workflow: BpmnWorkflow, script_engine: DispatchingScriptEngine) -> None:
        self.wf = workflow
        self.wf.script_engine = script_engine  # not serialised: attach after every load
        self.engine = script_engine
        self._current = "-"  # the element the engine is running, for StepFailed
        self.details: dict[str, Any] = {}  # added to every StepFailed (the services put the instance here)

    @contextmanager
    def _step(self) -> Iterator[None]:
        try:
            yield
        except StepFailed as failed:
            for key, value in self.details.items():
                failed.details.setdefault(key, value)
            raise
        except Exception as exc:  # noqa: BLE001 - every failure of engine work becomes the instance's failure
            if outside_the_instance(exc):  # ... except the database's: the caller retries the whole step
                raise
            site = locate(exc)  # file, element and the expression that failed, read off the error (failure_site)
            wrapped = StepFailed(site.element or self._current, site.text(), file=site.file) if site.element \
                else StepFailed.of(self._current, exc)
            wrapped.details.update(self.details)
            raise wrapped from exc

    @classmethod
    def start(
        cls, bundle: Bundle, process_id: str, data: dict[str, Any], engine: DispatchingScriptEngine
    ) -> WorkflowRun:
        spec, subprocess_specs = bundle.spec(process_id)
        wf = EngineWorkflow(spec, subprocess_specs, script_engine=engine)
        wf.spec_key = f"{bundle.sha256}:{process_id}"
        wf.task_tree.data.update(data)
        return cls(wf, engine)

    @classmethod
    def load(cls, state_json: str, engine: DispatchingScriptEngine) -> WorkflowRun:
        try:
            return cls(STATE.deserialize_json(state_json), engine)
        except Exception as exc:  # noqa: BLE001 - a state that cannot be loaded poisons only its instance
            raise StepFailed.of("-", exc) from exc

    def dump(self) -> str:
        with self._step():
            try:
                return str(STATE.serialize_json(self.wf))
            except Exception as exc:  # noqa: BLE001 - e.g. an int beyond the JSON limit left by a script
                reason = StepFailed.of("-", exc).reason
                raise StepFailed("-", f"the instance's data cannot be saved: {reason}") from exc

    @contextmanager
    def at(self, now: datetime) -> Iterator[None]:
        """Engine passes inside take ``now`` as the time (timers fire, start and coalesce by it)."""
        self.engine.now = now
        try:
            yield
        finally:
            self.engine.now = None

    @property
    def now(self) -> datetime | None:
        """The time ``at`` gave the current pass, or None (the real clock)."""
        injected = getattr(self.engine, "now", None)
        return injected if isinstance(injected, datetime) else None

    def advance(self, operators: OperatorPort, on_step: Callable[[StepEvent], None] | None = None) -> None:
        """Fire due timers and run every non-manual step until the workflow waits."""
        self.engine.operators = operators

        def will_complete(task: Any) -> None:
            self._current = _element(task)

        def did_complete(task: Any) -> None:
            if on_step and not task.task_spec.manual:
                on_step(StepEvent(str(task.id), task.task_spec.bpmn_id or task.task_spec.name,
                                  type(task.task_spec).__name__, TaskState.get_name(task.state)))

        try:
            with self._step():
                self.wf.refresh_timers()
                self.wf.do_engine_steps(will_complete_task=will_complete, did_complete_task=did_complete)
        finally:
            self.engine.operators = None

    def ready_tasks(self) -> list[ReadyTask]:
        return [self._view(t) for t in self.wf.get_tasks(state=TaskState.READY, manual=True)]

    def settle(self) -> tuple[str, list[ReadyTask]]:
        """Status and READY user tasks from one walk of the task tree (the save path's hot spot)."""
        if self.wf.is_completed():
            return "complete", []
        ready = self.wf.get_tasks(state=TaskState.READY)
        manual = [self._view(t) for t in ready if t.task_spec.manual]
        return ("user_input_required" if manual else "running" if ready else "waiting"), manual

    def _view(self, task: Any) -> ReadyTask:
        spec = task.task_spec
        props = spec.extensions.get("properties", {}) if hasattr(spec, "extensions") else {}
        owners = task.data.get("lane_owners") or {}
        lane_owners = owners.get(spec.lane) if isinstance(owners, dict) else None
        approver = task.data.get("approver") if spec.name.endswith("[child]") else None
        return ReadyTask(str(task.id), spec.bpmn_id or spec.name, spec.bpmn_name or spec.name, spec.lane,
                         task.workflow.spec.name, props.get("formJsonSchemaFilename"),
                         approver if isinstance(approver, str) else None,
                         list(lane_owners) if isinstance(lane_owners, list) else None, _sla_due(task),
                         str(getattr(task.workflow.spec, "file", "") or ""),
                         props.get(NOTIFY_PROPERTY) == NOTIFY_ON_OPEN)

    def task_form(self, task_guid: str) -> TaskForm | None:
        """A user task's form file, diagram, data and rendered instructions; None if the run no longer has it."""
        try:
            task = self.wf.get_task_from_id(UUID(task_guid))
        except ValueError:
            return None
        if task is None or not getattr(task.task_spec, "manual", False):
            return None
        view = self._view(task)
        extensions = getattr(task.task_spec, "extensions", {}) or {}
        template = extensions.get("instructionsForEndUser") or ""
        data = dict(task.data)
        return TaskForm(view.diagram_file, view.form_key, data, render_instructions(template, data))

    def task_data(self, task_guid: str) -> dict[str, Any]:
        return dict(self._task(task_guid).data)

    def ready_task(self, task_guid: str) -> ReadyTask:
        """The READY user task ``task_guid`` (its form and diagram), or TaskNotReady."""
        task = self._task(task_guid)
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(f"task {task.task_spec.bpmn_id} ({task_guid}) is not waiting for a person")
        return self._view(task)

    def complete(self, task_guid: str, fields: dict[str, Any]) -> None:
        """Write a checked form's ``fields`` into the task (each replaces its variable whole) and run it."""
        task = self._task(task_guid)
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(f"task {task.task_spec.bpmn_id} ({task_guid}) is not waiting for a person")
        self._current = _element(task)
        with self._step():
            variable = getattr(task.task_spec, "variable", None)  # spiffworkflow:variableName on the user task
            # A shallow update, not SpiffWorkflow's deep merge: a shorter ``lines`` list replaces the old one
            # instead of merging by position, and a field can never reach into a dict the engine set.
            task.data.update({variable: fields} if variable else fields)
            task.run()

    def waits_for(self, name: str) -> bool:
        """Whether a waiting event of the run would catch message ``name`` now (cheap: waiting events only)."""
        event = BpmnEvent(MessageEventDefinition(name))
        return any(t.task_spec.catches(t, event) for t in self.wf.event_manager.tasks.values())

    def start_on_message(self, name: str, payload: dict[str, Any]) -> bool:
        """Begin a new run whose start event waits for message ``name``; False if none does."""
        self._current = f"message {name}"
        with self._step():
            self.wf.do_engine_steps()  # nothing runs before a message start: it only comes to wait
            started = self.wf.get_tasks(catches_event=BpmnEvent(MessageEventDefinition(name)),
                                        state=TaskState.NOT_FINISHED_MASK)
            if started:
                self.wf.catch(BpmnEvent(MessageEventDefinition(name), payload=payload))
        return bool(started)

    def send_message(self, name: str, payload: dict[str, Any]) -> bool:
        """Deliver a message; False if nothing waits for it (a duplicate or late callback)."""
        event = BpmnEvent(MessageEventDefinition(name), payload=payload)
        if not self.wf.get_tasks(catches_event=event, state=TaskState.NOT_FINISHED_MASK):
            return False
        self._current = f"message {name}"
        with self._step():
            self.wf.catch(event)
        return True

    def finish_service_task(self, task_guid: str, result_variable_value: dict[str, Any]) -> None:
        task = self._task(task_guid)
        if task.state != TaskState.STARTED:
            state = TaskState.get_name(task.state)
            raise TaskNotReady(f"service task {task.task_spec.bpmn_id} is {state}, not STARTED")
        self._current = _element(task)
        with self._step():
            problems = list(plain_json_problems(result_variable_value, task.task_spec.result_variable))
            if problems:  # a connector's answer is input too: no typed values, nothing but JSON
                raise ValueError(f"the connector's result was refused: {problems[0]}")
            task.data[task.task_spec.result_variable] = result_variable_value
            task.complete()

    def fail_service_task(self, task_guid: str, error: ConnectorError) -> None:
        """Hand a connector's known failure to the diagram; StepFailed if no boundary event catches it."""
        task = self._task(task_guid)
        if task.state != TaskState.STARTED:
            raise TaskNotReady(f"service task {task.task_spec.bpmn_id} is not waiting for a result")
        self._current = _element(task)
        with self._step():
            throw_bpmn_error(task, error)

    def cancel(self) -> None:
        """Cancel every unfinished task (an admin or the applicant cancelled the document)."""
        with self._step():
            self.wf.cancel()

    def waits_for_service(self, task_guid: str) -> bool:
        task = self.wf.get_task_from_id(UUID(task_guid))
        return task is not None and task.state == TaskState.STARTED

    def _task(self, task_guid: str) -> Any:
        task = self.wf.get_task_from_id(UUID(task_guid))
        if task is None:
            raise TaskNotReady(f"no task {task_guid} in this instance")
        return task

    @property
    def data(self) -> dict[str, Any]:
        """The workflow's data when complete, else the data of the task that ran last."""
        if self.wf.is_completed():
            return dict(self.wf.data)
        return dict(self.wf.last_task.data) if self.wf.last_task else {}

    def path(self) -> RunPath:
        """Where the top process has been and is: its finished and current elements, and the steps between."""
        mine = [t for t in self.wf.get_tasks(state=TaskState.ANY_MASK) if t.workflow is self.wf
                and getattr(t.task_spec, "bpmn_id", None)]
        done = sorted((t for t in mine if t.state == TaskState.COMPLETED), key=lambda t: t.last_state_change)
        waiting = TaskState.READY | TaskState.WAITING | TaskState.STARTED
        current = [t for t in mine if t.state & waiting and type(t.task_spec).__name__ != "BoundaryEvent"]
        steps = []
        for task in done + current:
            parent = task.parent
            while parent is not None and not getattr(parent.task_spec, "bpmn_id", None):
                parent = parent.parent
            if parent is not None and parent.state == TaskState.COMPLETED:
                steps.append((parent.task_spec.bpmn_id, task.task_spec.bpmn_id))
        return RunPath(self.wf.spec.name, list(dict.fromkeys(t.task_spec.bpmn_id for t in done)),
                       list(dict.fromkeys(t.task_spec.bpmn_id for t in current)), list(dict.fromkeys(steps)))

    def completed_count(self) -> int:
        """Completed tasks in the whole tree, subprocesses included (what makes state grow)."""
        return sum(1 for t in self.wf.get_tasks(state=TaskState.ANY_MASK) if t.state == TaskState.COMPLETED)

    def status(self) -> str:
        if self.wf.is_completed():
            return "complete"
        if self.wf.get_tasks(state=TaskState.READY, manual=True):
            return "user_input_required"
        if self.wf.get_tasks(state=TaskState.READY):
            return "running"
        return "waiting"

    def next_timer_at(self) -> datetime | None:
        due = []
        for task in self.wf.event_manager.tasks.values():
            value = task.internal_data.get("event_value")
            value = value.get("next") if isinstance(value, dict) else value
            if isinstance(value, str):
                try:
                    due.append(TimerEventDefinition.get_datetime(value))
                except ValueError:
                    continue  # not a timer's value (a message payload, say)
        return min(due) if due else None

    def release(self) -> None:
        """Break the task trees' reference cycles (each task points at its workflow, which holds it): a run no
        one will use again is then freed by reference counting at once, not left for a full garbage collection
        to find and free in one long pause (docs/engine.md, "Garbage collection and memory"). The cache of live
        workflows (engine/services/steps.py) calls this on the runs it drops; the run is unusable afterwards."""
        workflows = [self.wf, *self.wf.subprocesses.values()]
        self.wf.subprocesses = {}
        for wf in workflows:
            wf.tasks = {}
            wf.task_tree = wf.last_task = None
            wf.event_manager = None
