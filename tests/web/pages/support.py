"""Shared steps for the pages' tests: documents put in place through the engine's services (not the pages
under test), and a snapshot of everything a refused action must leave alone."""

from __future__ import annotations

from itertools import count
from typing import Any

from sqlalchemy import text

from engine.bootstrap import Container
from engine.services import processes

_numbers = count(1)


def application(container: Container, applicant: str = "E0017", *, amount: str = "3000.00",
                subject: str = "TRAVEL") -> tuple[str, str]:
    """A travel application filled in and waiting for its first approval: (document number, approval task guid)."""
    document_no = f"TA-TEST-{next(_numbers):06d}"
    started = processes.start(container.uow, process_id="travel_application", applicant=applicant,
                              business_key=document_no, data={})
    fill = started.open_tasks[0]["task_guid"]
    done = processes.complete_task(container.uow, task_guid=fill, user=applicant, form={
        "subject": subject, "purpose": "Customer visit", "amount": amount, "currency": "CNY", "period": "2026"})
    return document_no, done.open_tasks[0]["task_guid"]


def fill_task(container: Container, applicant: str = "E0017") -> tuple[str, str]:
    """A travel application just started: (document number, its fill_application task guid)."""
    document_no = f"TA-TEST-{next(_numbers):06d}"
    started = processes.start(container.uow, process_id="travel_application", applicant=applicant,
                              business_key=document_no, data={})
    return document_no, started.open_tasks[0]["task_guid"]


def snapshot(container: Container) -> dict[str, Any]:
    """What the ledger and the workflows hold: a refused action must leave every part of it as it was."""
    queries = {
        "instances": "SELECT id, revision, status, outcome, state FROM process_instance ORDER BY id",
        "tasks": "SELECT task_guid, status, assignee, delegated_by, completed_by FROM human_task ORDER BY task_guid",
        "candidates": "SELECT task_id, employee FROM human_task_candidate ORDER BY task_id, employee",
        "ledger": "SELECT id, line_id, kind, amount FROM ledger_entry ORDER BY id",
        "reservations": "SELECT id, amount, released, consumed FROM reservation ORDER BY id",
        "jobs": "SELECT id, operator, status FROM outbox_job ORDER BY id",
    }
    with container.engine.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(text(sql))] for name, sql in queries.items()}
