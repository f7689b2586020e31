"""One task and one document through the API: what each person sees (404 otherwise), the form schema and
decisions, history, budget panel, the process path and diagram, and withdrawing."""

from __future__ import annotations

from decimal import Decimal

from tests.web.api.conftest import trip_for_approval
from tests.web.api.state import snapshot

APPLICANT, MANAGER, STRANGER, AUDITOR, FINANCE = "E0017", "E0005", "E0019", "E0014", "E0011"


def test_a_task_shows_its_form_and_what_the_caller_may_do(api):
    guid = trip_for_approval(api.container)
    task = api.get(f"/tasks/{guid}", MANAGER).get_json()
    assert task["bpmn_id"] == "approve_by_manager" and task["status"] == "open"
    assert task["decisions"] == ["approve", "reject", "send_back"]
    assert task["may_act"] is True and task["may_delegate"] is True and task["may_claim"] is False
    assert task["schema"]["properties"]["decision"] and task["amount"] == "1200.00"
    seen_by_applicant = api.get(f"/tasks/{guid}", APPLICANT).get_json()
    assert seen_by_applicant["may_act"] is False and seen_by_applicant["decisions"] == task["decisions"]
    assert api.get(f"/tasks/{guid}", AUDITOR).get_json()["may_act"] is False
    missing = api.get(f"/tasks/{guid}", STRANGER)
    assert missing.status_code == 404 and missing.get_json()["code"] == "NOT_FOUND"
    assert api.get("/tasks/00000000-0000-4000-8000-000000000000", MANAGER).status_code == 404


def test_a_document_with_history_budget_and_path(api):
    guid = trip_for_approval(api.container, amount="1500.00")
    number = api.get(f"/tasks/{guid}", MANAGER).get_json()["document_no"]
    approved = api.post(f"/tasks/{guid}/complete", MANAGER, json={"decision": "approve", "comment": "go"})
    assert approved.status_code == 200
    document = api.get(f"/documents/{number}", APPLICANT).get_json()
    assert (document["status"], document["outcome"]) == ("complete", "approved")
    assert document["amount"] == "1500.00" and document["created_at"].endswith("Z")
    decided = [h for h in document["history"] if h["action"] == "task.completed" and h["actor"] == MANAGER]
    assert decided and decided[0]["detail"]["decision"] == "approve" and decided[0]["detail"]["comment"] == "go"
    [line] = document["budget"]
    assert line["subject"] == "TRAVEL" and Decimal(line["request_share"]) == Decimal("1500.00")
    assert Decimal(line["available"]) == Decimal(line["allocated"]) - Decimal(line["reserved"]) - Decimal(
        line["consumed"])
    assert "approval" in document["path"]["completed"] and document["may_withdraw"] is False
    diagram = api.get(f"/documents/{number}/diagram", FINANCE).get_json()
    assert diagram["bpmn_xml"].startswith("<?xml") and diagram["process_id"] == "travel_application"
    assert api.get(f"/documents/{number}", STRANGER).status_code == 404
    assert api.get(f"/documents/{number}/diagram", STRANGER).status_code == 404
    assert api.get("/documents/NO-SUCH-1", APPLICANT).status_code == 404


def test_the_applicant_withdraws_while_pending_and_only_then(api):
    guid = trip_for_approval(api.container)
    number = api.get(f"/tasks/{guid}", MANAGER).get_json()["document_no"]
    assert api.get(f"/documents/{number}", APPLICANT).get_json()["may_withdraw"] is True
    withdrawn = api.post(f"/documents/{number}/withdraw", APPLICANT, json={"reason": "trip cancelled"})
    assert withdrawn.status_code == 200
    assert (withdrawn.get_json()["status"], withdrawn.get_json()["outcome"]) == ("complete", "withdrawn")
    before = snapshot(api.container)
    again = api.post(f"/documents/{number}/withdraw", APPLICANT)
    assert again.status_code == 403 and "not waiting" in again.get_json()["message"]
    assert api.post("/documents/NO-SUCH-1/withdraw", APPLICANT).status_code == 404
    assert snapshot(api.container) == before
    assert api.get(f"/documents/{number}", APPLICANT).get_json()["budget"][0]["reserved"] == "0.00"
