"""Shared helpers for tests that drive the process engine on the small fixture diagram."""

from __future__ import annotations

from pathlib import Path

from engine.services import processes

FIXTURES = Path(__file__).parent / "engine_fixtures"
APPLICANT, MANAGER, FINANCE = "E0017", "E0005", "E0011"
CLAIM = {"subject": "TRAVEL", "period": "2026", "amount": "1280.50", "currency": "CNY",
         "lines": [{"subject": "TRAVEL", "amount": "1280.50", "invoice_code": "011002", "invoice_number": "1"}]}


def start_claim(app, number: str, **changes):
    return processes.start(app.uow, process_id="mini_claim", applicant=APPLICANT, business_key=number,
                           data={**CLAIM, **changes})


def only_task(outcome):
    assert len(outcome.open_tasks) == 1, outcome
    return outcome.open_tasks[0]


def approved_claim(app, number: str):
    fill = only_task(start_claim(app, number))
    approval = only_task(processes.complete_task(app.uow, task_guid=fill["task_guid"], user=APPLICANT, form={}))
    processes.complete_task(app.uow, task_guid=approval["task_guid"], user=MANAGER, form={"decision": "approve"})


