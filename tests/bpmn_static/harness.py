"""Run the diagrams in bpmn/ in memory: stubbed service tasks, save/restore at every wait state.

Self-contained on purpose (no engine imports): these tests pin the diagrams' contract, the engine
gets its own tests. The stub service task mirrors what the engine does for the
engine: evaluate the parameters, call an operator, and turn a known failure into a BPMN error
event caught by the diagram's boundary error event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree
from RestrictedPython import compile_restricted, limited_builtins, safe_globals, utility_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, safer_getattr
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition, MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
    "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "dmndi": "https://www.omg.org/spec/DMN/20191111/DMNDI/",
}

# The operator contract (bpmn/README.md): parameter names, result variable, error codes.
OPERATORS: dict[str, dict[str, Any]] = {
    "budget/Reserve": {"params": {"document_no", "org_unit", "subject", "period", "amount", "currency"},
                       "result": "reservation", "errors": {"BUDGET_INSUFFICIENT"}},
    "budget/ReserveClaim": {"params": {"document_no", "org_unit", "subject", "period", "amount", "currency"},
                            "result": "reservation", "errors": {"BUDGET_INSUFFICIENT"}},
    "budget/WriteOff": {"params": {"document_no", "reservation_id", "amount", "currency", "close"},
                        "result": "write_off", "errors": {"BUDGET_INSUFFICIENT"}},
    "budget/Release": {"params": {"document_no", "reservation_id", "reason"}, "result": "release", "errors": set()},
    "budget/CheckOverrun": {"params": {"document_no", "reservation_id", "amount", "currency"},
                            "result": "overrun_check", "errors": {"BUDGET_INSUFFICIENT"}},
    "claims/CheckInvoices": {"params": {"document_no", "lines"}, "result": "invoice_check",
                             "errors": {"DUPLICATE_INVOICE"}},
    "erp/PostVoucher": {"params": {"document_no", "applicant", "lines", "total", "currency"}, "result": "voucher",
                        "errors": {"ERP_POST_FAILED"}},
    "notify/Send": {"params": {"to", "template", "document_no"}, "optional": {"overdue"}, "result": "notification",
                    "errors": set()},
    "oa/CreateApproval": {"params": {"document_no", "applicant", "fields"}, "optional": {"vendor"},
                          "result": "oa_approval", "errors": {"OA_REJECTED", "OA_NOT_CONFIGURED"}},
    "oa/GetApproval": {"params": {"vendor", "instance_id"}, "result": "oa_status",
                       "errors": {"OA_UNKNOWN_INSTANCE", "OA_NOT_CONFIGURED"}},
}
MONEY_PARAMS = {"amount", "total"}


# ---- service stub ------------------------------------------------------------------------------
class StubFailure(Exception):
    def __init__(self, code: str, message: str, **payload: Any) -> None:
        super().__init__(message)
        self.code, self.payload = code, payload


def _default_results() -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
    return {
        "budget/Reserve": lambda p: {"reservation_id": f"RSV-{p['document_no']}", "over_budget": False,
                                     "available_after": "100000.00"},
        "budget/ReserveClaim": lambda p: {"reservation_id": f"RSV-{p['document_no']}", "over_budget": False,
                                          "available_after": "100000.00"},
        "budget/WriteOff": lambda p: {"from_reservation": p["amount"], "excess": "0.00", "released": "0.00",
                                      "over_budget": False},
        "budget/Release": lambda p: {"released": True},
        "budget/CheckOverrun": lambda p: {"overrun": False, "excess": "0.00", "within_tolerance": True},
        "claims/CheckInvoices": lambda p: {"checked": len(p["lines"]), "duplicates": []},
        "erp/PostVoucher": lambda p: {"voucher_no": f"V-{p['document_no']}"},
        "notify/Send": lambda p: {"sent": True},
    }


class Stub:
    """Answers operators, records every call, and fails on demand (failures are consumed in order)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.results = _default_results()
        self.failures: dict[str, list[StubFailure]] = {}

    def answer(self, operator: str, **result: Any) -> None:
        base = self.results[operator]
        self.results[operator] = lambda p: {**base(p), **result}

    def fail(self, operator: str, code: str, message: str, times: int = 1, **payload: Any) -> None:
        self.failures.setdefault(operator, []).extend(StubFailure(code, message, **payload) for _ in range(times))

    def call(self, operator: str, params: dict[str, Any]) -> dict[str, Any]:
        contract = OPERATORS[operator]
        assert contract["params"] <= set(params) <= contract["params"] | contract.get("optional", set()), (
            operator, sorted(params))
        json.dumps(params)  # parameters must be JSON-safe (no Decimal, no dates)
        for name in MONEY_PARAMS & set(params):
            assert isinstance(params[name], str), f"{operator}.{name} must be a string amount"
            Decimal(params[name])
        self.calls.append((operator, params))
        pending = self.failures.get(operator)
        if pending:
            failure = pending.pop(0)
            assert failure.code in contract["errors"], (operator, failure.code)
            raise failure
        return self.results[operator](params)

    def called(self, operator: str) -> list[dict[str, Any]]:
        return [p for op, p in self.calls if op == operator]

    def templates(self) -> list[str]:
        return [p["template"] for p in self.called("notify/Send")]


class StubServiceTask(ServiceTask):
    """As engine/workflow/service_tasks.py: dispatch in the task spec; a known failure becomes a caught BPMN error."""

    def _execute(self, task: Any) -> bool:
        params = {name: p["value"] for name, p in self.evaluate_params(task).items()}
        stub: Stub = task.workflow.script_engine.stub
        try:
            result = stub.call(self.operation_name, params)
        except StubFailure as failure:
            payload = {"code": failure.code, "message": str(failure), **failure.payload}
            event = BpmnEvent(ErrorEventDefinition(failure.code, code=failure.code), payload=payload)
            top = task.workflow.top_workflow
            if not top.get_tasks(catches_event=event, state=TaskState.NOT_FINISHED_MASK):
                raise AssertionError(f"{self.bpmn_id}: nothing catches {failure.code}") from failure
            top.catch(event)
            return False
        task.data[self.result_variable] = json.loads(json.dumps(result))
        return True


class StubParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = dict(SpiffBpmnParser.OVERRIDE_PARSER_CLASSES)  # copy: never mutate the base
    OVERRIDE_PARSER_CLASSES[full_tag("serviceTask")] = (ServiceTaskParser, StubServiceTask)


# ---- script environments -----------------------------------------------------------------------
class RestrictedEnv(TaskDataEnvironment):
    """docs/scripts.md: what the engine is expected to run scripts and conditions with."""

    def __init__(self, extra: dict[str, Any] | None = None) -> None:
        builtins = dict(safe_globals["__builtins__"])
        builtins.update(limited_builtins)
        builtins.update(utility_builtins)
        builtins.update(sum=sum, min=min, max=max, any=any, all=all, enumerate=enumerate, dict=dict, list=list)
        env = {"__builtins__": builtins, "_getattr_": safer_getattr, "_getitem_": default_guarded_getitem,
               "_getiter_": default_guarded_getiter, "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
               "_write_": full_write_guard}
        env.update(extra or {})
        super().__init__(env)

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        return super().evaluate(compile_restricted(expression, "<expr>", "eval"), context, external_context)

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        return super().execute(compile_restricted(script, "<string>", "exec"), context, external_context)


class StubScriptEngine(PythonScriptEngine):
    def __init__(self, stub: Stub, restricted: bool = False) -> None:
        env_class = RestrictedEnv if restricted else TaskDataEnvironment
        super().__init__(environment=env_class({"Decimal": Decimal}))
        self.stub = stub


# ---- parsing and serializing -------------------------------------------------------------------
def diagram_files() -> list[Path]:
    return sorted(BPMN_DIR.rglob("*.bpmn"))


def decision_files() -> list[Path]:
    return sorted(BPMN_DIR.rglob("*.dmn"))


@cache
def specs() -> dict[str, tuple[Any, dict[str, Any]]]:
    parser = StubParser(validator=VALIDATOR)
    parser.add_dmn_files([str(p) for p in decision_files()])
    parser.add_bpmn_files([str(p) for p in diagram_files()])
    return {pid: (parser.get_spec(pid), parser.get_subprocess_specs(pid)) for pid in parser.get_process_ids()}


def _serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[StubServiceTask] = ServiceTaskConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]))
    return BpmnWorkflowSerializer(registry)


SERIALIZER = _serializer()


def xml(path: Path) -> etree._ElementTree:
    return etree.parse(str(path))


# ---- a running instance ------------------------------------------------------------------------
class Run:
    """One instance, saved and restored from JSON at every wait state (like SpiffWorkflow's save_restore tests)."""

    def __init__(self, process_id: str, data: dict[str, Any], stub: Stub | None = None,
                 restricted: bool = False) -> None:
        spec, subprocess_specs = specs()[process_id]
        self.stub = stub or Stub()
        self.engine = StubScriptEngine(self.stub, restricted)
        self.wf = BpmnWorkflow(spec, subprocess_specs, script_engine=self.engine)
        self.wf.task_tree.data.update(data)
        self.restores = 0
        self.seen: list[str] = []  # bpmn ids of the user tasks offered, in order
        self.advance()

    def advance(self) -> None:
        self.wf.do_engine_steps()
        self._save_restore()
        for task in self.ready():
            self.seen.append(task.task_spec.bpmn_id)

    def _save_restore(self) -> None:
        state = SERIALIZER.serialize_json(self.wf)
        json.loads(state)
        self.wf = SERIALIZER.deserialize_json(state)
        self.wf.script_engine = self.engine  # not serialized: re-attach after every load
        self.restores += 1

    # inbox ------------------------------------------------------------------------------------------
    def ready(self) -> list[Any]:
        return self.wf.get_tasks(state=TaskState.READY, manual=True)

    def inbox(self) -> list[tuple[str, str | None, str | None]]:
        """(bpmn id, lane, approver) of every READY user task, sorted."""
        return sorted((t.task_spec.bpmn_id, t.task_spec.lane, t.data.get("approver")) for t in self.ready())

    def task(self, bpmn_id: str, approver: str | None = None) -> Any:
        found = [t for t in self.ready() if t.task_spec.bpmn_id == bpmn_id
                 and (approver is None or t.data.get("approver") == approver)]
        assert len(found) == 1, (bpmn_id, approver, self.inbox())
        return found[0]

    def complete(self, bpmn_id: str, approver: str | None = None, **form: Any) -> None:
        task = self.task(bpmn_id, approver)
        task.task_spec.add_data_from_form(task, form)
        task.run()
        self.advance()

    def decide(self, bpmn_id: str, decision: str, comment: str = "", approver: str | None = None) -> None:
        self.complete(bpmn_id, approver, decision=decision, comment=comment)

    # events -----------------------------------------------------------------------------------------
    def send(self, message: str, **payload: Any) -> None:
        self.wf.send_event(BpmnEvent(MessageEventDefinition(message), payload=payload))
        self.advance()

    def waiting_timers(self) -> list[str]:
        return sorted(t.task_spec.bpmn_id for t in self.wf.get_tasks(state=TaskState.WAITING)
                      if "event_value" in t.internal_data)

    def fire_timer(self, bpmn_id: str) -> None:
        """Move a waiting timer's due time into the past, then let the engine poll timers."""
        found = [t for t in self.wf.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == bpmn_id]
        assert len(found) == 1, (bpmn_id, self.waiting_timers())
        value = found[0].internal_data.get("event_value")
        past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        if isinstance(value, dict):  # cycle timer: {'cycles', 'next', 'duration'}
            value["next"] = past
        else:
            assert isinstance(value, str), value
            found[0].internal_data["event_value"] = past
        self.wf.refresh_timers()
        self.advance()

    # results ----------------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.wf.is_completed()

    @property
    def data(self) -> dict[str, Any]:
        assert self.done, self.inbox()
        return self.wf.data
