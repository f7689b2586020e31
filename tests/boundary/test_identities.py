"""Issue 7, identities: inactive people neither apply, receive nor decide; every refusal is audited."""

from __future__ import annotations

import pytest

from engine.domain.errors import DocumentExists
from engine.services import processes, tasks
from engine.services.steps import NotAllowed
from tests.boundary.support import audit_rows, set_active, snapshot
from tests.flows.support import APPLICANT, DEPARTMENT_HEAD, MANAGER

ADMIN = "E0015"  # role admin in the demo company
COLLEAGUE = "E0018"


def test_an_inactive_employee_cannot_start_a_process(flow):
    set_active(flow.app, APPLICANT, False)
    before = snapshot(flow.app)
    with pytest.raises(NotAllowed, match=f"applicant {APPLICANT} is not an active employee"):
        flow.start("travel_application")
    assert snapshot(flow.app) == before
    assert "not an active employee" in audit_rows(flow.app, "access.refused")[-1]["reason"]


def test_an_approver_who_left_cannot_decide_and_the_task_is_listed_for_reassignment(flow):
    instance = flow.apply("1280.50")
    task = flow.task(instance, "approve_by_manager")
    set_active(flow.app, MANAGER, False)
    before = snapshot(flow.app)
    with pytest.raises(NotAllowed, match=f"user {MANAGER} is not an active employee"):
        flow.decide(instance, "approve", user=MANAGER)
    assert snapshot(flow.app) == before
    orphaned = tasks.orphaned_tasks(flow.app.uow)
    assert [t["task_guid"] for t in orphaned] == [task["task_guid"]]
    with pytest.raises(NotAllowed, match="only admins reassign"):
        tasks.reassign(flow.app.uow, task_guid=task["task_guid"], to=DEPARTMENT_HEAD, by=COLLEAGUE, reason="x")
    tasks.reassign(flow.app.uow, task_guid=task["task_guid"], to=DEPARTMENT_HEAD, by=ADMIN, reason="E0005 left")
    assert tasks.orphaned_tasks(flow.app.uow) == []
    processes.complete_task(flow.app.uow, task_guid=task["task_guid"], user=DEPARTMENT_HEAD,
                            form={"decision": "approve", "comment": "ok"})
    assert flow.finished(instance) == ("complete", "approved")
    assert audit_rows(flow.app, "task.reassigned")[-1]["reason"] == "E0005 left"


def test_a_new_task_skips_a_manager_who_left(flow):
    set_active(flow.app, MANAGER, False)
    instance = flow.apply("1280.50")
    assert flow.inbox(instance) == [("approve_by_manager", "manager", [DEPARTMENT_HEAD])]


def test_nobody_delegates_to_an_inactive_employee_to_themselves_or_to_the_applicant(flow):
    instance = flow.apply("1280.50")
    guid = flow.task(instance, "approve_by_manager")["task_guid"]
    set_active(flow.app, COLLEAGUE, False)
    before = snapshot(flow.app)
    for to, match in ((COLLEAGUE, "not an active employee"), (MANAGER, "to themselves"),
                      (APPLICANT, "is the applicant")):
        with pytest.raises(NotAllowed, match=match):
            tasks.delegate(flow.app.uow, task_guid=guid, user=MANAGER, to=to)
    assert snapshot(flow.app) == before
    assert len(audit_rows(flow.app, "access.refused")) == 3


def test_refused_withdraws_and_comments_are_audited(flow):
    instance = flow.apply("1280.50")
    before = snapshot(flow.app)
    with pytest.raises(NotAllowed, match="only the applicant"):
        processes.send_message(flow.app.uow, instance_id=instance, name="withdraw", payload={}, user=COLLEAGUE)
    with pytest.raises(NotAllowed, match="not involved"):
        tasks.comment(flow.app.uow, instance_id=instance, user=COLLEAGUE, text="let me in")
    assert snapshot(flow.app) == before
    reasons = [r["reason"] for r in audit_rows(flow.app, "access.refused")]
    assert any("only the applicant" in r for r in reasons) and any("not involved" in r for r in reasons)
    assert all(r["actor"] == COLLEAGUE for r in audit_rows(flow.app, "access.refused"))


def test_a_duplicate_document_number_is_a_clear_refusal(flow):
    processes.start(flow.app.uow, process_id="travel_application", applicant=APPLICANT, business_key="TA-DUP-1")
    before = snapshot(flow.app)
    with pytest.raises(DocumentExists, match="document TA-DUP-1 already exists"):
        processes.start(flow.app.uow, process_id="travel_application", applicant=COLLEAGUE, business_key="TA-DUP-1")
    assert snapshot(flow.app) == before
    assert "TA-DUP-1 already exists" in audit_rows(flow.app, "access.refused")[-1]["reason"]
