"""One task and one document as their pages show them: visibility, what the viewer may do, history, picture."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from engine.persistence.workflow_tables import ProcessInstance
from engine.services.document_views import document_view
from engine.services.task_views import task_view
from tests.flows.support import APPLICANT, MANAGER
from tests.web_engine.conftest import deactivate


def waiting_application(flow, amount="3000"):
    instance = flow.apply(amount)
    return instance, flow.instance(instance).business_key, flow.task(instance)["task_guid"]


def test_the_approver_sees_the_form_the_decisions_and_may_act(flow):
    _, number, guid = waiting_application(flow)
    view = task_view(flow.app.reader, guid, MANAGER)
    assert (view.document_no, view.bpmn_id, view.status, view.lane) == (number, "approve_by_manager", "open",
                                                                        "manager")
    assert (view.may_act, view.may_delegate, view.may_claim) == (True, True, False)
    assert view.decisions == ["approve", "reject", "send_back"]
    assert view.schema["properties"]["decision"]["oneOf"][0]["const"] == "approve"
    assert view.values["amount"] == "3000.00" and view.values["document_no"] == number
    assert set(view.values) <= set(view.schema["properties"])
    assert number in view.instructions and "{{" not in view.instructions
    assert (view.subject, view.amount, view.applicant_name) == ("TRAVEL", Decimal("3000.00"), "何鹏")


def test_who_sees_a_task_and_who_may_act_on_it(flow):
    _, _, guid = waiting_application(flow)
    applicant = task_view(flow.app.reader, guid, APPLICANT)
    assert applicant is not None and not applicant.may_act and not applicant.may_delegate
    auditor = task_view(flow.app.reader, guid, "E0014")
    assert auditor is not None and not auditor.may_act
    for outsider in ("E0018", "E0006", "E9999", "E0025"):  # a colleague, another manager, unknown, inactive
        assert task_view(flow.app.reader, guid, outsider) is None, outsider
    assert task_view(flow.app.reader, "00000000-0000-0000-0000-000000000000", MANAGER) is None
    assert task_view(flow.app.reader, "not a guid", MANAGER) is None
    deactivate(flow.app, MANAGER)
    assert task_view(flow.app.reader, guid, MANAGER) is None


def test_the_document_page_shows_history_open_tasks_withdraw_and_the_path(flow):
    _, number, guid = waiting_application(flow)
    view = document_view(flow.app.reader, number, APPLICANT)
    assert (view.status, view.subject, view.amount, view.currency) == ("user_input_required", "TRAVEL",
                                                                       Decimal("3000.00"), "CNY")
    assert view.may_withdraw and not document_view(flow.app.reader, number, MANAGER).may_withdraw
    assert [t["guid"] for t in view.open_tasks] == [guid] and view.open_tasks[0]["candidates"] == [MANAGER]
    actions = [h.action for h in view.history]
    assert actions[0] == "process.started" and "task.completed" in actions and "engine.steps" in actions
    assert view.history[0].actor_name == "何鹏"
    picture = view.picture
    assert picture.process_id == "travel_application" and 'id="travel_application"' in picture.bpmn_xml
    assert picture.completed[:2] == ["start_application", "fill_application"] and picture.current == ["approval"]
    assert picture.taken_flows and all(f'id="{flow_id}"' in picture.bpmn_xml for flow_id in picture.taken_flows)
    assert document_view(flow.app.reader, number, "E0018") is None
    assert document_view(flow.app.reader, "TA-0000-000000", APPLICANT) is None


def test_a_decided_document_shows_the_decision_and_no_withdraw(flow):
    instance, number, guid = waiting_application(flow)
    flow.decide(instance, "approve", "Have a good trip")
    view = document_view(flow.app.reader, number, MANAGER)  # the manager completed a task of it
    assert (view.status, view.outcome, view.may_withdraw, view.open_tasks) == ("complete", "approved", False, [])
    decided = [h for h in view.history if h.action == "task.completed" and h.actor == MANAGER]
    assert decided[0].detail["decision"] == "approve" and decided[0].detail["comment"] == "Have a good trip"
    assert view.picture.current == [] and "approval" in view.picture.completed
    done = task_view(flow.app.reader, guid, MANAGER)
    assert (done.status, done.may_act, done.completed_by) == ("completed", False, MANAGER)


def test_a_posted_claim_names_its_voucher_and_the_application_its_claim(flow):
    application = flow.apply("2000")
    flow.decide(application)
    app_no = flow.instance(application).business_key
    claim = flow.claim("1500.00", application_no=app_no)
    flow.decide(claim)
    claim_no = flow.instance(claim).business_key
    view = document_view(flow.app.reader, claim_no, APPLICANT)
    assert (view.outcome, view.linked_document) == ("posted", app_no)
    assert view.voucher_no == flow.vouchers(claim_no)[0]
    assert document_view(flow.app.reader, app_no, APPLICANT).claims == [claim_no]
    assert any(h.action.startswith("connector.") for h in view.history)


def test_a_state_that_cannot_load_still_shows_its_page(flow):
    instance, number, guid = waiting_application(flow)
    with flow.app.engine.begin() as conn:
        conn.execute(update(ProcessInstance).where(ProcessInstance.id == instance).values(state="{not json"))
    view = document_view(flow.app.reader, number, APPLICANT)
    assert view is not None and view.picture.completed == [] and not view.may_withdraw
    assert task_view(flow.app.reader, guid, MANAGER).schema is None
    with flow.app.engine.begin() as conn:  # the inbox test's teardown reads the index, not the state
        conn.execute(update(ProcessInstance).where(ProcessInstance.id == instance).values(state=""))
