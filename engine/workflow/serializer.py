"""Instance state as JSON without the process spec (stored once per bundle), with Decimal and dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.util.task import TaskState

from engine.workflow import bundle as bundles
from engine.workflow.engine_task import EngineTask, inherited
from engine.workflow.engine_workflow import EngineSubWorkflow, EngineWorkflow
from engine.workflow.service_tasks import ConnectorServiceTask
from engine.workflow.task_dicts import TYPENAME as TASK_TYPENAME
from engine.workflow.task_dicts import task_dicts
from engine.workflow.timers import ClockedCycle, ClockedDuration, ClockedTimeDate


class _ConnectorServiceTaskConverter(ServiceTaskConverter):
    def __init__(self, target_class: type, registry: Any) -> None:
        # Keep the stock type name so states stay loadable if the class is renamed or swapped.
        super().__init__(target_class, registry, typename="ServiceTask")


class EngineTaskConverter(TaskConverter):
    """TaskConverter.from_dict with the parent's data copied directly (``inherited``) where the library
    deep-merges it into an empty dict; written under the stock type name ``Task``."""

    def __init__(self, target_class: type, registry: Any) -> None:
        super().__init__(target_class, registry, typename=TASK_TYPENAME)

    def from_dict(self, dct: dict[str, Any], workflow: Any) -> Any:
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = self.target_class(workflow, task_spec, state=dct["state"], id=UUID(dct["id"]))
        task._parent = UUID(dct["parent"]) if dct["parent"] is not None else None
        task._children = [UUID(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = self.registry.restore(dct["internal_data"])
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            task.workflow.top_workflow.event_manager.add_task(task)
        delta, parent = dct.get("delta"), task.parent
        if delta and parent is not None:
            data = inherited(parent.data)
            data.update(self.registry.restore(delta.get("updates", {})))
            for key in delta.get("deletions", {}):
                data.pop(key, None)
        else:
            data = self.registry.restore(dct["data"])
        task.data = data
        return task


def _workflow_dict(converter: Any, workflow: Any) -> dict[str, Any]:
    """WorkflowConverter.to_dict, its tasks written by task_dicts.py while the registry encodes JSON."""
    registry = converter.registry
    if not registry._encoder_mode:  # a plain to_dict converts nested values too: the library's way
        return dict(WorkflowConverter.to_dict(converter, workflow))
    return {
        "data": registry.convert(registry.clean(workflow.data)),
        "correlations": workflow.correlations,
        "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": task_dicts(workflow, registry.convert),
        "root": str(workflow.task_tree.id),
    }


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Writes ``spec_key`` (bundle hash + process id) instead of the whole spec."""

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        dct = _workflow_dict(self, workflow)
        dct.update(
            spec_key=workflow.spec_key,
            subprocesses=self.mapping_to_dict(workflow.subprocesses),
            bpmn_events=self.registry.convert(workflow.bpmn_events),
        )
        return dct

    def from_dict(self, dct: dict[str, Any]) -> Any:
        key = dct.pop("spec_key")
        sha, _, process_id = key.partition(":")
        spec, subprocess_specs = bundles.cached(sha, _missing(sha)).spec(process_id)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.spec_key = key
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class EngineSubWorkflowConverter(BpmnSubWorkflowConverter):
    """A call activity's subworkflow under the stock type name, its tasks written by task_dicts.py."""

    def __init__(self, target_class: type, registry: Any) -> None:
        super().__init__(target_class, registry, typename="BpmnSubWorkflow")

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        dct = _workflow_dict(self, workflow)
        dct["parent_task_id"] = str(workflow.parent_task_id)
        dct["spec"] = workflow.spec.name
        return dct


def _stock_name(converter: type, typename: str) -> type:
    """``converter`` writing our subclass under the stock type name: the state format does not change, and
    registered after the stock class, a state (ours or stock SpiffWorkflow's) loads as our subclass."""

    class Converter(converter):
        def __init__(self, target_class: type, registry: Any) -> None:
            super().__init__(target_class, registry, typename=typename)

    return Converter


def _missing(sha: str) -> Any:
    def fail() -> dict[str, str]:
        raise LookupError(f"bundle {sha[:12]} is not loaded; load it from the database before the instance")

    return fail


def _registry(config: dict[Any, Any]) -> Any:
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"]))
    return registry


def _config(specless: bool) -> dict[Any, Any]:
    config = dict(SPIFF_CONFIG)
    config[ConnectorServiceTask] = _ConnectorServiceTaskConverter
    for clocked in (ClockedCycle, ClockedDuration, ClockedTimeDate):  # specs travel only in FULL
        config[clocked] = TimerConditionalEventDefinitionConverter
    if specless:
        config[BpmnWorkflow] = SpeclessWorkflowConverter
    config[EngineTask] = EngineTaskConverter  # after the stock classes: states load as ours
    config[EngineWorkflow] = _stock_name(config[BpmnWorkflow], "BpmnWorkflow")
    config[EngineSubWorkflow] = EngineSubWorkflowConverter
    return config


STATE = BpmnWorkflowSerializer(_registry(_config(specless=True)))
FULL = BpmnWorkflowSerializer(_registry(_config(specless=False)))  # tests' save/restore, spec embedded
