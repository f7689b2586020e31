"""Shared by the admin page tests: who holds which role in the demo, and what a refused request must not change."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from engine.persistence.types import utcnow
from engine.services import outbox, read_models
from engine.services.steps import load_run
from engine.workflow.errors import StepFailed
from tests.boundary.support import snapshot
from tests.flows.support import Flow

# One demo person per role (web/demo.py; engine/seed/demo/employees.csv).
PEOPLE = {
    "employee": "E0017",
    "manager": "E0005",
    "finance": "E0011",
    "budget_admin": "E0013",
    "auditor": "E0014",
    "admin": "E0015",
    "process_designer": "E0016",
}


def state(app: Any) -> str:
    """A digest of what the admin pages can change: ledger, flows, jobs, versions, incidents, balances."""
    found = read_models.incidents(app.reader)
    lines, _names = read_models.balances(app.reader)
    return hashlib.sha256(json.dumps([
        repr(snapshot(app)), read_models.model_versions(app.reader), found.jobs, found.instances,
        read_models.audit_row_count(app.reader), [repr(line) for line in lines],
    ], default=str, sort_keys=True).encode()).hexdigest()


def page(client: Any, url: str) -> tuple[int, str]:
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


class RetryableFailure:
    """The ERP answers 500 to every post: the job retries, then gives up (an incident)."""

    def __init__(self, inner):
        self.inner = inner

    def post_voucher(self, draft, *, idempotency_key, **options):
        from connectors.base import ConnectorError

        raise ConnectorError("ERP_POST_FAILED", "ERP answered 500", retryable=True)

    def find_voucher(self, *, idempotency_key):
        return self.inner.find_voucher(idempotency_key=idempotency_key)

    def list_vouchers(self, **window):
        return self.inner.list_vouchers(**window)

    @property
    def name(self):
        return self.inner.name


def job_incident(flow: Flow) -> int:
    """A claim approved while the ERP answers 500: its voucher job retries, then gives up (an incident)."""
    instance = flow.claim("300.00")
    real = flow.runner.erp
    flow.runner.erp = RetryableFailure(real)
    flow.decide(instance, settle=False)
    policy = outbox.RetryPolicy(max_attempts=2)
    for hour in range(20):  # notifications run too; bounded, so a job that never gives up fails the test
        outbox.run_one(flow.app.uow, flow.runner, policy=policy, now=utcnow() + timedelta(hours=hour))
        mine = [j for j in read_models.incidents(flow.app.reader).jobs if j["instance_id"] == instance]
        if mine:
            flow.runner.erp = real
            return int(mine[0]["id"])
    raise AssertionError("the voucher job did not become an incident")


def instance_incident(flow: Flow) -> int:
    """A claim whose next step fails (a name planted in its data hides a helper): the instance stops."""
    instance = flow.start("expense_claim")
    guid = flow.task(instance, "fill_claim")["task_guid"]
    with flow.app.uow() as uow:
        row, run = load_run(uow, instance)
        run.wf.get_task_from_id(UUID(guid)).data["Decimal"] = 1
        uow.instances.save(row, state=run.dump(), status=row.status, outcome=None, next_timer_at=run.next_timer_at())
        uow.commit()
    with pytest.raises(StepFailed):
        flow.act(instance, {"subject": "TRAVEL", "purpose": "x", "currency": "CNY", "period": "2026",
                            "lines": flow.lines("100.00")})
    return instance
