"""Issue 7, acceptance 2: every user-task form of bpmn/ fuzzed from its own schema, through complete_task.

Each example is a hostile submission (extra fields, wrong types, typed-serializer dicts, oversized values,
engine variables, not an object at all) or a valid one. Whatever it is: no crash other than a refusal,
no change to what the engine set, and the instance still steps to its end afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.domain.errors import BudgetflowError
from engine.domain.forms import FormInvalid
from engine.services import processes
from engine.services.steps import NotAllowed
from engine.workflow.errors import TaskNotReady
from tests.boundary.schema_strategies import mutated, submission
from tests.flows.support import BPMN, FlakyErp, Flow

IDENTITY = ("applicant", "org_unit", "document_no", "application_no", "reservation_id", "lane_owners",
            "countersigners")
REFUSALS = (FormInvalid, NotAllowed, TaskNotReady)


def _apply(flow: Flow, amount: str, subject: str = "TRAVEL", approvals: int = 0) -> int:
    instance = flow.apply(amount, subject)
    for _ in range(approvals):
        flow.decide(instance, "approve", "ok")
    return instance


def _overrun(flow: Flow) -> int:
    application = _apply(flow, "1000.00", approvals=1)
    instance = flow.claim("1040.00", application_no=flow.instance(application).business_key)
    flow.decide(instance, "approve", "ok")
    return instance


def _posting_failed(flow: Flow) -> int:
    instance = flow.claim("300.00")
    flow.runner.erp = FlakyErp(flow.runner.erp, failures=1)
    flow.decide(instance, "approve", "ok")
    return instance


TARGETS: dict[str, tuple[str, Callable[[Flow], int]]] = {  # user task -> (its form, how to reach it)
    "fill_application": ("travel_application/forms/apply.schema.json", lambda f: f.start("travel_application")),
    "fill_claim": ("expense_claim/forms/claim.schema.json", lambda f: f.start("expense_claim")),
    "approve_by_manager": ("shared/forms/approve.schema.json", lambda f: _apply(f, "1280.50")),
    "approve_by_department_head": ("shared/forms/approve.schema.json", lambda f: _apply(f, "8000.00", approvals=1)),
    "approve_by_finance_director": ("shared/forms/approve.schema.json", lambda f: _apply(f, "25000.00", approvals=2)),
    "countersign": ("shared/forms/approve.schema.json", lambda f: _apply(f, "12000.00", "ENTERTAINMENT", 2)),
    "approve_overrun": ("expense_claim/forms/approve_overrun.schema.json", _overrun),
    "fix_posting": ("expense_claim/forms/fix_posting.schema.json", _posting_failed),
}


class Target:
    """The open task under fuzz; a new instance is made when a valid example has completed it."""

    def __init__(self, flow: Flow, bpmn_id: str) -> None:
        self.flow, self.bpmn_id, self.instances = flow, bpmn_id, []

    def task(self) -> dict[str, Any]:
        for instance in reversed(self.instances):
            found = [t for t in self.flow.open_tasks(instance) if t["bpmn_id"] == self.bpmn_id]
            if found:
                return {**found[0], "instance": instance}
        self.instances.append(TARGETS[self.bpmn_id][1](self.flow))
        return self.task()

    def identity(self, instance: int) -> dict[str, Any]:
        data = self.flow.data(instance)
        return {k: data.get(k) for k in IDENTITY}


@pytest.mark.slow
@pytest.mark.parametrize("bpmn_id", list(TARGETS))
def test_hostile_forms_are_refused_and_never_break_an_instance(flow, bpmn_id):
    schema = json.loads((BPMN / TARGETS[bpmn_id][0]).read_text(encoding="utf-8"))
    target = Target(flow, bpmn_id)
    outcomes: dict[str, int] = {"refused": 0, "accepted": 0}

    @settings(max_examples=25, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(form=st.one_of(mutated(schema), submission(schema)))
    def attack(form: Any) -> None:
        task = target.task()
        before = target.identity(task["instance"])
        user = task["candidates"][0]
        try:
            processes.complete_task(flow.app.uow, task_guid=task["task_guid"], user=user, form=form)
            outcomes["accepted"] += 1
        except REFUSALS:
            outcomes["refused"] += 1
        except BudgetflowError as exc:  # anything else is the kind of failure an API would answer with a 500
            raise AssertionError(f"{bpmn_id}: {type(exc).__name__}: {exc}") from exc
        flow.assert_save_restore(task["instance"])
        assert target.identity(task["instance"]) == before

    attack()
    print(f"{bpmn_id}: {outcomes}")  # shown with -s: how many examples were refused and accepted
    assert outcomes["refused"] > 0
    for instance in target.instances:  # every instance still steps on to its end
        _finish(flow, instance)
        assert flow.finished(instance)[0] == "complete", flow.inbox(instance)


def _finish(flow: Flow, instance: int) -> None:
    flow.runner.erp = getattr(flow.runner.erp, "inner", flow.runner.erp)
    for _ in range(20):
        flow.settle(instance)
        tasks = flow.open_tasks(instance)
        if not tasks:
            return
        task = tasks[0]
        if task["bpmn_id"] in ("fill_application", "fill_claim"):
            _fill(flow, instance, task)
        elif task["bpmn_id"] == "fix_posting":
            flow.act(instance, {"fix_note": "fixed"}, bpmn_id="fix_posting", user=task["candidates"][0])
        else:
            flow.act(instance, {"decision": "reject", "comment": "fuzzed"}, bpmn_id=task["bpmn_id"],
                     user=task["candidates"][0])


def _fill(flow: Flow, instance: int, task: dict[str, Any]) -> None:
    if task["bpmn_id"] == "fill_application":
        form = {"subject": "TRAVEL", "purpose": "x", "amount": "100.00", "currency": "CNY", "period": "2026"}
    else:
        form = {"subject": "TRAVEL", "purpose": "x", "currency": "CNY", "period": "2026", "lines": flow.lines("1.00")}
    flow.act(instance, form, bpmn_id=task["bpmn_id"])
