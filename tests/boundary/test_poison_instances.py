"""Issue 7, poison instances: a step that fails stops its own instance (an incident, audited), nothing else.

The poisoned state is written straight into the database, as an earlier hole (a typed value revived by
the serializer) or a database admin could have left it: the engine must cope with what is stored.
"""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from uuid import UUID

import pytest

from engine.services import instance_admin
from engine.services.steps import NotAllowed, load_run
from engine.workflow.errors import StepFailed
from tests.boundary.support import audit_rows, instance_row, rewrite_state, snapshot
from tests.flows.support import APPLICANT, TRAVEL_LINE, Flow

ADMIN = "E0015"
COLLEAGUE = "E0018"


def poison_with_typed_value(flow: Flow, instance: int) -> None:
    """A task's data holds a serialised timedelta of 10⁹ days: loading the state overflows."""
    def change(state: dict) -> None:
        task = next(iter(state["tasks"].values()))
        task["data"]["poison"] = {"typename": "timedelta", "days": 10**9, "seconds": 0, "microseconds": 0}
    rewrite_state(flow.app, instance, change)


def plant_in_task_data(flow: Flow, instance: int, bpmn_id: str, **values: object) -> None:
    """Put ``values`` into a ready task's data and save it (a script of an older version could have)."""
    guid = flow.task(instance, bpmn_id)["task_guid"]
    with flow.app.uow() as uow:
        row, run = load_run(uow, instance)
        run.wf.get_task_from_id(UUID(guid)).data.update(values)
        uow.instances.save(row, state=run.dump(), status=row.status, outcome=None, next_timer_at=run.next_timer_at())
        uow.commit()


def test_a_failed_step_names_its_element_changes_nothing_and_is_an_audited_incident(flow):
    instance = flow.start("expense_claim")
    plant_in_task_data(flow, instance, "fill_claim", Decimal=1)  # hides the helper prepare_claim calls
    before, saved = snapshot(flow.app), instance_row(flow.app, instance).state
    with pytest.raises(StepFailed, match="prepare_claim: .*hides names of helpers"):
        flow.act(instance, {"subject": "TRAVEL", "purpose": "x", "currency": "CNY", "period": "2026",
                            "lines": flow.lines("100.00")})
    after = snapshot(flow.app)
    assert (after.ledger_entries, after.jobs, after.open_tasks) == (before.ledger_entries, before.jobs,
                                                                     before.open_tasks)
    row = instance_row(flow.app, instance)
    assert row.status == "incident" and row.last_error.startswith("expense_claim/expense_claim.bpmn:prepare_claim: ")
    assert row.state == saved  # nothing of the failed step was kept
    failed = audit_rows(flow.app, "engine.step_failed")[-1]
    assert failed["element"] == "prepare_claim" and failed["actor"] == APPLICANT
    listed = subprocess.run([sys.executable, "-m", "engine", "incidents", "list"], env=_env(flow),
                            capture_output=True, text=True, check=True)
    assert "1 instance incident(s)" in listed.stdout and "prepare_claim" in listed.stdout


def test_a_poisoned_instance_never_stops_the_worker_or_the_other_timers(flow, cli_env):
    poisoned, healthy = flow.apply("1280.50"), flow.apply("1300.00")
    flow.force_due(poisoned, "remind_manager")
    flow.force_due(healthy, "remind_manager")
    poison_with_typed_value(flow, poisoned)
    run = subprocess.run([sys.executable, "-m", "engine", "worker", "--once"], env=cli_env, capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert "1 timer(s) fired" in run.stdout
    assert flow.templates(healthy) == ["approval_reminder"]
    row = instance_row(flow.app, poisoned)
    assert (row.status, row.next_timer_at) == ("incident", None) and "OverflowError" in row.last_error
    again = subprocess.run([sys.executable, "-m", "engine", "worker", "--once"], env=cli_env, capture_output=True,
                           text=True, timeout=120, check=False)
    assert again.returncode == 0 and "0 timer(s) fired" in again.stdout  # it does not spin on the incident
    assert audit_rows(flow.app, "engine.step_failed")[-1]["actor"] == "scheduler"


def test_an_admin_cancels_a_poisoned_instance_and_its_reservation_goes_back(flow, cli_env):
    instance = flow.apply("1280.50")
    poison_with_typed_value(flow, instance)
    assert flow.reserved() == Decimal("1280.50")
    with pytest.raises(StepFailed, match="OverflowError"):
        flow.decide(instance)
    run = subprocess.run([sys.executable, "-m", "engine", "instances", "cancel", str(instance), "--by", ADMIN,
                          "--reason", "poisoned state"], env=cli_env, capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert flow.reserved() == 0 and flow.finished(instance) == ("complete", "cancelled")
    assert flow.open_tasks(instance) == []
    cancelled = audit_rows(flow.app, "process.cancelled")[-1]
    assert cancelled["actor"] == ADMIN and cancelled["reason"] == "poisoned state"
    assert cancelled["released"][0]["released"] == "1280.5000"
    assert flow.balance(TRAVEL_LINE).reserved == 0


def test_applicants_cancel_their_own_pending_document_and_nobody_elses(flow):
    instance = flow.apply("1280.50")
    before = snapshot(flow.app)
    with pytest.raises(NotAllowed, match=f"{COLLEAGUE} may not cancel"):
        instance_admin.cancel(flow.app.uow, instance_id=instance, by=COLLEAGUE, reason="mine now")
    assert snapshot(flow.app) == before
    assert "may not cancel" in audit_rows(flow.app, "access.refused")[-1]["reason"]
    instance_admin.cancel(flow.app.uow, instance_id=instance, by=APPLICANT, reason="trip called off")
    assert flow.finished(instance) == ("complete", "cancelled") and flow.reserved() == 0
    with pytest.raises(NotAllowed, match="already finished"):
        instance_admin.cancel(flow.app.uow, instance_id=instance, by=ADMIN, reason="again")
    assert flow.balance(TRAVEL_LINE).reserved == 0


def test_a_written_off_claim_cannot_be_cancelled(flow):
    instance = flow.claim("300.00")
    flow.decide(instance)  # written off, voucher queued and posted
    with pytest.raises(NotAllowed, match="already finished|written off"):
        instance_admin.cancel(flow.app.uow, instance_id=instance, by=ADMIN, reason="too late")


def test_an_admin_retries_an_incident_once_its_cause_is_gone(flow):
    instance = flow.start("expense_claim")
    plant_in_task_data(flow, instance, "fill_claim", Decimal=1)
    form = {"subject": "TRAVEL", "purpose": "x", "currency": "CNY", "period": "2026", "lines": flow.lines("100.00")}
    with pytest.raises(StepFailed):
        flow.act(instance, form)
    with pytest.raises(NotAllowed, match="only admins retry"):
        instance_admin.retry(flow.app.uow, instance_id=instance, by=APPLICANT)
    plant_in_task_data(flow, instance, "fill_claim")  # nothing planted: the same poison is still there
    with pytest.raises(StepFailed):
        flow.act(instance, form)
    assert instance_row(flow.app, instance).status == "incident"


def _env(flow: Flow) -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.update(BUDGETFLOW_DATABASE_URL=str(flow.app.engine.url.render_as_string(hide_password=False)),
               BUDGETFLOW_INSTANCE_DIR=str(flow.app.settings.instance_dir))
    return env


def test_a_connector_answer_with_a_typed_value_is_refused_and_kept_for_an_admin(flow):
    instance, other = flow.claim("300.00"), flow.claim("200.00")
    real = flow.runner.run

    def hostile(operator, params, *, key, **options):
        result = real(operator, params, key=key, **options)
        if operator == "erp/PostVoucher" and params["document_no"] == flow.instance(instance).business_key:
            result.result["voucher_no"] = {"typename": "timedelta", "days": 10**9, "seconds": 0,
                                           "microseconds": 0}
        return result

    flow.runner.run = hostile
    flow.decide(instance, settle=False)
    flow.decide(other, settle=False)
    flow.settle()  # the worker goes on past the refused answer
    row = instance_row(flow.app, instance)
    assert row.status == "incident" and "connector's result was refused" in row.last_error
    assert flow.finished(other) == ("complete", "posted")
    assert [j["status"] for j in flow.jobs(instance, "erp/PostVoucher")] == ["done"]  # the answer is kept
