"""Service tasks dispatch to an operator port instead of SpiffWorkflow's script-engine call_service.

SpiffWorkflow's own ``call_service`` error path raises a NameError that hides the
real error (in 3.2.0 it refers to an undefined name ``script``), so the task spec does the dispatching: the
operator either completes (result stored in ``resultVariable``), defers (the task
stays STARTED until the outbox worker reports back), or fails with a known code,
which becomes a BPMN error event when the diagram has a boundary event for it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition
from SpiffWorkflow.util.task import TaskState

from connectors.base import ConnectorError
from engine.workflow.ports import OperatorCall, OperatorPort
from engine.workflow.scripts.spiff_adapter import SandboxedScriptEngine, make_script_engine


class DispatchingScriptEngine(SandboxedScriptEngine):
    """The sandboxed script engine, also carrying the operator port and the time of the current engine pass."""

    operators: OperatorPort | None = None
    now: datetime | None = None  # what timers take as now (timers.py); None: the real clock


def new_script_engine() -> DispatchingScriptEngine:
    """The script engine every workflow run gets: the sandbox (docs/scripts.md) carrying the operator port."""
    engine = make_script_engine(engine_class=DispatchingScriptEngine)
    assert isinstance(engine, DispatchingScriptEngine)
    return engine


class ConnectorServiceTask(ServiceTask):
    def _execute(self, task: Any) -> bool | None:
        engine = task.workflow.script_engine
        port: OperatorPort | None = getattr(engine, "operators", None)
        if port is None:
            raise RuntimeError("no operator port attached to the script engine")
        params = {name: p["value"] for name, p in self.evaluate_params(task).items()}
        call = OperatorCall(self.operation_name, params, str(task.id), self.bpmn_id, task.data)
        try:
            result = port.call(call)
        except ConnectorError as error:
            return throw_bpmn_error(task, error)
        if result is None:
            return None  # deferred: the task stays STARTED until the job reports back
        task.data[self.result_variable] = json.loads(json.dumps(result, default=str))
        return True


def throw_bpmn_error(task: Any, error: ConnectorError) -> bool:
    """Route a known failure to the diagram's boundary error event, or re-raise if none catches it."""
    payload = {"code": error.code, "message": str(error), **error.payload}
    event = BpmnEvent(ErrorEventDefinition(error.code, code=error.code), payload=payload)
    top = task.workflow.top_workflow
    if top.get_tasks(catches_event=event, state=TaskState.NOT_FINISHED_MASK):
        top.catch(event)
        return False  # the task goes to ERROR without raising; the boundary path continues
    raise error
