"""Withdrawing a document by its number, and the colleagues a task can be handed to (the shipped diagrams)."""

from __future__ import annotations

import pytest

from engine.domain.errors import UnknownInstance
from engine.services import document_actions, processes
from engine.services.steps import NotAllowed

APPLICANT, MANAGER = "E0017", "E0005"
TRIP = {"subject": "TRAVEL", "purpose": "Customer visit", "amount": "1200.00", "currency": "CNY", "period": "2026"}


def _applied(demo, number: str) -> None:
    started = processes.start(demo.uow, process_id="travel_application", applicant=APPLICANT, business_key=number)
    fill = started.open_tasks[0]
    processes.complete_task(demo.uow, task_guid=fill["task_guid"], user=APPLICANT, form=TRIP)


def test_the_applicant_withdraws_a_pending_document_by_its_number(demo) -> None:
    _applied(demo, "TA-W-1")
    with pytest.raises(NotAllowed, match="only the applicant"):
        document_actions.withdraw(demo.uow, document_no="TA-W-1", user=MANAGER)
    outcome = document_actions.withdraw(demo.uow, document_no="TA-W-1", user=APPLICANT, reason="  plans changed ")
    assert outcome.open_tasks == []
    with pytest.raises(NotAllowed, match="not waiting"):
        document_actions.withdraw(demo.uow, document_no="TA-W-1", user=APPLICANT)


def test_an_unknown_document_is_named(demo) -> None:
    with pytest.raises(UnknownInstance, match="no document TA-NOPE"):
        document_actions.withdraw(demo.uow, document_no="TA-NOPE", user=APPLICANT)


def test_colleagues_are_active_people_of_my_unit_first(demo) -> None:
    found = document_actions.colleagues(demo.reader, APPLICANT)
    codes = [p["code"] for p in found]
    assert APPLICANT not in codes and len(codes) == len(set(codes)) > 10
    units = [p["org_unit"] for p in found]
    own = units[0]
    assert own == "SALES-N" and units[: units.count(own)] == [own] * units.count(own)
