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


TRIP = {"subject": "TRAVEL", "purpose": "visit", "amount": "800.00", "currency": "CNY", "period": "2026"}


def test_an_applicant_starts_submits_and_lists_their_documents(api):
    startable = {p["process_id"]: p for p in api.get("/startable-processes", APPLICANT).get_json()}
    assert set(startable) == {"travel_application", "travel_application_oa", "expense_claim"}  # not mode 1
    assert startable["travel_application"]["schema"]["properties"]["amount"]
    started = api.post("/documents", APPLICANT, json={"process_id": "travel_application", "data": TRIP})
    assert started.status_code == 201
    number = started.get_json()["document_no"]
    assert number.startswith("TA-") and number.endswith("-000001")
    [fill] = started.get_json()["outcome"]["open_tasks"]
    assert fill["bpmn_id"] == "fill_application" and fill["candidates"] == [APPLICANT]
    assert api.post(f"/tasks/{fill['task_guid']}/complete", APPLICANT, json={"data": {}}).status_code == 200
    mine = api.get("/documents?status=open", APPLICANT).get_json()
    assert [(d["document_no"], d["amount"], d["may_withdraw"]) for d in mine["items"]] == [(number, "800.00", True)]
    assert mine["next_cursor"] is None
    assert api.get("/documents", MANAGER).get_json()["items"] == []  # the manager applied for nothing


def test_documents_page_with_a_cursor_and_a_link_header(api):
    numbers = [api.post("/documents", APPLICANT, json={"process_id": "travel_application", "data": TRIP})
               .get_json()["document_no"] for _ in range(3)]
    first = api.get("/documents?limit=2", APPLICANT)
    assert [d["document_no"] for d in first.get_json()["items"]] == numbers[:0:-1]  # newest first
    cursor = first.get_json()["next_cursor"]
    assert cursor and f"cursor={cursor}" in first.headers["Link"] and 'rel="next"' in first.headers["Link"]
    second = api.get(f"/documents?limit=2&cursor={cursor}", APPLICANT)
    assert [d["document_no"] for d in second.get_json()["items"]] == numbers[:1]
    assert second.get_json()["next_cursor"] is None and "Link" not in second.headers
    assert api.get("/documents?cursor=nonsense", APPLICANT).status_code == 400


def test_a_start_the_engine_refuses_changes_nothing(api):
    before = snapshot(api.container)
    for body, status in (({"process_id": "approval_chain"}, 422),  # a called process, not an entry point
                         ({"process_id": "no_such_process"}, 422),
                         ({"process_id": "travel_application", "data": {**TRIP, "applicant": MANAGER}}, 422),
                         ({"process_id": "expense_claim", "application_no": "TA-2026-999999"}, 403),
                         ({"process_id": "travel_application", "data": "x"}, 422)):
        answer = api.post("/documents", APPLICANT, json=body)
        assert answer.status_code == status, (body, answer.get_json())
    assert snapshot(api.container) == before
