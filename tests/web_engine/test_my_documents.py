"""The applicant's side: numbered starts (also concurrent), my documents, what can be started and linked."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from engine.persistence.types import utcnow
from engine.services.document_numbers import document_prefix, next_document_number, start_document
from engine.services.my_documents import approved_applications, my_documents, startable
from engine.services.steps import NotAllowed
from tests.flows.support import APPLICANT, MANAGER, START

YEAR = utcnow().year


def test_documents_are_numbered_per_prefix_and_year(flows_app):
    first, outcome = start_document(flows_app.uow, process_id="travel_application", applicant=APPLICANT, data=START)
    second, _ = start_document(flows_app.uow, process_id="travel_application", applicant="E0018", data=START)
    claim, _ = start_document(flows_app.uow, process_id="expense_claim", applicant=APPLICANT, data=START)
    assert (first, second, claim) == (f"TA-{YEAR}-000001", f"TA-{YEAR}-000002", f"EC-{YEAR}-000001")
    assert outcome.open_tasks[0]["bpmn_id"] == "fill_application"
    assert [document_prefix(p) for p in ("purchase_request", "x", "--", "a_b_c_d_e_f_g_h_i_j")] == [
        "PR", "X", "DOC", "ABCDEFGH"]


def test_a_refused_start_leaves_its_number_unused_and_nothing_else(flows_app):
    with pytest.raises(NotAllowed, match="not an active employee"):
        start_document(flows_app.uow, process_id="travel_application", applicant="E0025", data=START)
    with pytest.raises(NotAllowed, match="not a process id"):
        start_document(flows_app.uow, process_id="../etc", applicant=APPLICANT, data=START)
    number, _ = start_document(flows_app.uow, process_id="travel_application", applicant=APPLICANT, data=START)
    assert number == f"TA-{YEAR}-000002"
    assert [r.document_no for r in my_documents(flows_app.reader, APPLICANT).rows] == [number]


@pytest.mark.slow
def test_concurrent_numbering_never_hands_out_a_number_twice(flows_app):
    taken, errors = [], []

    def take(n):
        try:
            for _ in range(n):
                taken.append(next_document_number(flows_app.uow, "expense_claim"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def start():
        try:
            taken.append(start_document(flows_app.uow, process_id="expense_claim", applicant=APPLICANT,
                                        data=START)[0])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(15,)) for _ in range(6)] + [
        threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(taken) == [f"EC-{YEAR}-{n:06d}" for n in range(1, 94)]
    assert len(my_documents(flows_app.reader, APPLICANT).rows) == 3


def test_my_documents_newest_first_with_step_waiting_and_withdraw(flow):
    draft = flow.start("travel_application")
    pending = flow.apply("3000")
    done = flow.apply("800")
    flow.decide(done)
    page = my_documents(flow.app.reader, APPLICANT)
    rows = {r.instance_id: r for r in page.rows}
    assert [r.instance_id for r in page.rows] == [done, pending, draft] and page.next_cursor is None
    assert (rows[pending].current_step, rows[pending].waiting_for, rows[pending].may_withdraw) == (
        "Manager approval 经理审批", ["陈静"], True)
    assert (rows[draft].waiting_for, rows[draft].may_withdraw) == (["何鹏"], False)
    assert (rows[done].status, rows[done].outcome, rows[done].current_step, rows[done].may_withdraw) == (
        "complete", "approved", None, False)
    assert rows[pending].subject == "TRAVEL" and rows[pending].amount == Decimal("3000.00")
    assert [r.instance_id for r in my_documents(flow.app.reader, APPLICANT, status="open").rows] == [pending, draft]
    assert [r.instance_id for r in my_documents(flow.app.reader, APPLICANT, status="complete").rows] == [done]
    first = my_documents(flow.app.reader, APPLICANT, limit=2)
    rest = my_documents(flow.app.reader, APPLICANT, limit=2, cursor=first.next_cursor)
    assert [r.instance_id for r in first.rows + rest.rows] == [done, pending, draft] and rest.next_cursor is None
    assert my_documents(flow.app.reader, MANAGER).rows == []


@pytest.mark.parametrize(("kw", "message"), [({"status": "done"}, "status"), ({"limit": 0}, "limit"),
                                             ({"cursor": "nope"}, "cursor")])
def test_bad_listing_arguments_are_value_errors(company, kw, message):
    with pytest.raises(ValueError, match=message):
        my_documents(company.reader, APPLICANT, **kw)


def test_a_cursor_of_another_filter_is_refused(flow):
    for _ in range(3):
        flow.start("travel_application")
    cursor = my_documents(flow.app.reader, APPLICANT, limit=1).next_cursor
    with pytest.raises(ValueError, match="another view"):
        my_documents(flow.app.reader, APPLICANT, status="open", limit=1, cursor=cursor)


def test_startable_lists_entry_points_with_their_first_form(flows_app):
    found = {p["process_id"]: p for p in startable(flows_app.reader)}
    # approval_chain and oa_approval are only ever called; oa_travel_application starts on an OA's message
    assert set(found) == {"travel_application", "travel_application_oa", "expense_claim"}
    assert found["expense_claim"]["name"] == "Expense claim 报销"
    assert "lines" in found["expense_claim"]["schema"]["properties"]
    assert "amount" in found["travel_application"]["schema"]["properties"]


def test_nothing_deployed_nothing_startable(company):
    assert startable(company.reader) == []


def test_approved_applications_are_offered_until_a_claim_runs_on_them(flow):
    approved = flow.apply("2000")
    flow.decide(approved)
    rejected = flow.apply("900")
    flow.decide(rejected, "reject", "No budget for this")
    number = flow.instance(approved).business_key
    offered = approved_applications(flow.app.reader, APPLICANT)
    assert [a["document_no"] for a in offered] == [number]
    assert offered[0]["remaining"] == Decimal("2000.00")
    assert approved_applications(flow.app.reader, "E0018") == []
    flow.claim("1500.00", application_no=number)
    assert approved_applications(flow.app.reader, APPLICANT) == []
