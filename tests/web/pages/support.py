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


def decide(container: Container, task_guid: str, user: str, decision: str = "approve") -> list[dict[str, Any]]:
    """Complete an approval; returns the open tasks after it."""
    return processes.complete_task(container.uow, task_guid=task_guid, user=user,
                                   form={"decision": decision, "comment": "ok"}).open_tasks


def overrun_task(container: Container, applicant: str = "E0017", manager: str = "E0005") -> tuple[str, str]:
    """A claim 4 % over its approved application (within the line's 5 % tolerance): after the manager, finance
    approves the overrun, a task offered to the whole finance group. (claim number, that task's guid)."""
    application_no, approval = application(container, applicant, amount="1000.00")
    decide(container, approval, manager)
    claim_no = f"EC-TEST-{next(_numbers):06d}"
    started = processes.start(container.uow, process_id="expense_claim", applicant=applicant, business_key=claim_no,
                              application_no=application_no)
    filled = processes.complete_task(container.uow, task_guid=started.open_tasks[0]["task_guid"], user=applicant,
                                     form={"subject": "TRAVEL", "purpose": "Trip", "currency": "CNY", "period": "2026",
                                           "lines": [{"subject": "TRAVEL", "amount": "1040.00", "tax": "0.00",
                                                      "invoice_code": "", "invoice_number": f"N{claim_no}"}]})
    pool = decide(container, filled.open_tasks[0]["task_guid"], manager)
    assert len(pool) == 1 and len(pool[0]["candidates"]) >= 2, pool
    return claim_no, pool[0]["task_guid"]
