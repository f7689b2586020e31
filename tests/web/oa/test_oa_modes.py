"""Modes 1 and 2 end to end, for each OA suite, over real HTTP against its emulator, on SQLite and PostgreSQL.

Mode 2: budgetflow creates the approval in the applicant's OA with the budget figures in its form; the OA
approver decides there; the OA's callback (or, when callbacks are lost, the diagram's polling timer) moves the
document on. Mode 1: an approval made and approved inside the OA starts the mapped process, once.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from engine.persistence.tables import Reservation
from engine.services import document_numbers, processes
from tests.web.oa.modes_support import APPLICANT, SUITES, TRIP, Setup, running

FORM = {"subject": "TRAVEL", "purpose": "参加展会 trade fair", "amount": "1280.50", "currency": "CNY",
        "period": "2026"}
POLL = timedelta(minutes=16)  # the oa_approval diagram polls every 15 minutes


@pytest.fixture(params=sorted(SUITES))
def oa(request, demo):
    with running(SUITES[request.param], demo) as setup:
        yield setup


def submit(setup: Setup) -> str:
    """The applicant fills a travel application of the OA-approved kind; its number once it waits on the OA."""
    number, started = document_numbers.start_document(setup.container.uow, process_id="travel_application_oa",
                                                      applicant=APPLICANT)
    fill = started.open_tasks[0]
    processes.complete_task(setup.container.uow, task_guid=fill["task_guid"], user=APPLICANT, form=FORM)
    setup.settle()
    return number


def oa_instance(setup: Setup, number: str) -> str:
    with setup.container.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT external_id FROM oa_external_ref WHERE document_no = "
                                    + ("%s" if setup.container.engine.dialect.name == "postgresql" else "?"),
                                    (number,)).all()
    assert len(rows) == 1, rows
    return str(rows[0][0])


def open_reservation(setup: Setup, number: str) -> object:
    with setup.container.uow() as uow:
        return uow.claims.open_reservation_of(number)


def test_mode2_the_oa_approves_with_the_budget_in_view_and_the_callback_moves_the_document(oa: Setup):
    number = submit(oa)
    instance = oa_instance(oa, number)
    state = oa.client().get_approval(instance)
    assert state["status"] == "pending"
    shown = str(state["raw"])
    assert number in shown and "1280.5" in shown  # the document and its amount are in the OA form
    assert oa.document(number)["status"] != "complete"
    oa.act(instance, "approve")
    oa.settle()
    document = oa.document(number)
    assert (document["status"], document["outcome"]) == ("complete", "approved")
    assert open_reservation(oa, number) is not None  # approved: the budget stays reserved for the claim


def test_mode2_a_rejection_in_the_oa_releases_the_budget(oa: Setup):
    number = submit(oa)
    oa.act(oa_instance(oa, number), "reject")
    oa.settle()
    document = oa.document(number)
    assert (document["status"], document["outcome"]) == ("complete", "rejected")
    assert open_reservation(oa, number) is None


def test_mode2_an_approval_the_oa_refuses_ends_the_document_and_frees_the_budget(oa: Setup):
    oa.applicant_leaves_the_oa()  # still in the data dictionary, no longer in the OA's directory
    number, started = document_numbers.start_document(oa.container.uow, process_id="travel_application_oa",
                                                      applicant=APPLICANT)
    processes.complete_task(oa.container.uow, task_guid=started.open_tasks[0]["task_guid"], user=APPLICANT,
                            form=FORM)
    oa.settle()
    document = oa.document(number)
    assert (document["status"], document["outcome"]) == ("complete", "oa_failed")  # not an incident
    assert open_reservation(oa, number) is None


def test_mode2_with_every_callback_dropped_the_poll_completes_each_approved_flow(oa: Setup):
    oa.faults(drop_callbacks=True)
    numbers = [submit(oa) for _ in range(3)]
    for number in numbers:
        oa.act(oa_instance(oa, number), "approve")
    oa.settle()
    assert [oa.document(n)["status"] for n in numbers] == ["running"] * 3 or \
        all(oa.document(n)["status"] != "complete" for n in numbers)  # no callback came: still waiting
    oa.settle(later=POLL)  # the timer fires, oa/GetApproval reads each instance
    assert [(oa.document(n)["status"], oa.document(n)["outcome"]) for n in numbers] == \
        [("complete", "approved")] * 3


def test_mode2_a_poll_before_the_decision_keeps_waiting(oa: Setup):
    oa.faults(drop_callbacks=True)
    number = submit(oa)
    oa.settle(later=POLL)  # polled while still pending in the OA: back to waiting
    assert oa.document(number)["status"] != "complete"
    oa.act(oa_instance(oa, number), "approve")
    oa.settle(later=2 * POLL)
    assert oa.document(number)["outcome"] == "approved"


def test_mode1_an_approval_made_in_the_oa_starts_one_document_with_its_fields(oa: Setup):
    instance = oa.suite.originate(oa.client())
    oa.act(instance, "approve")
    oa.settle()
    number = _origin_document(oa, instance)
    document = oa.document(number)
    assert (document["status"], document["outcome"]) == ("complete", "approved")
    assert document["applicant"] == APPLICANT
    assert reserved(oa, number) == Decimal(TRIP["amount"])  # the OA form's amount, reserved on the budget
    # the OA reporting the same approval again (as new events) starts nothing more
    inbox = oa.container.oa_callbacks()
    for key, kind, payload in _stored_events(oa):
        assert inbox.record(oa.suite.name, "again-" + key, kind, payload)
    oa.settle()
    assert _origin_document(oa, instance) == number
    assert _documents_of(oa, "oa_travel_application") == 1


def reserved(setup: Setup, number: str) -> Decimal:
    with setup.container.engine.connect() as conn:  # the typed column: SQLite keeps amounts as scaled integers
        return conn.execute(select(Reservation.amount).where(Reservation.status == "open",
                                                             Reservation.document_ref == number)).scalar_one()


def _origin_document(setup: Setup, instance: str) -> str:
    found = setup.container.oa_refs().document_of(setup.suite.name, instance)
    assert found is not None and found[1] == "origin", found
    return found[0]


def _stored_events(setup: Setup) -> list[tuple[str, str, dict]]:
    with setup.container.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT event_key, kind, payload FROM oa_callback ORDER BY id").all()
    return [(key, kind, json.loads(payload)) for key, kind, payload in rows]


def _documents_of(setup: Setup, process_id: str) -> int:
    with setup.container.engine.connect() as conn:
        return int(conn.exec_driver_sql(
            "SELECT count(*) FROM process_instance WHERE process_id = '" + process_id + "'").scalar_one())
