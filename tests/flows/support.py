"""Drive the real diagrams in bpmn/ through the real engine and database, one saved step at a time.

Every engine call (start, complete_task, send_message, the outbox worker, the timer poll) loads the
instance from the database and saves it at its next wait state. After each of them the helper also
checks the saved JSON the way SpiffWorkflow's own save_restore tests do: deserialize it, serialize it
again, and demand the same document.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from connectors.base import ConnectorError
from engine.persistence.ledger_queries import LineBalance, balances
from engine.persistence.tables import Reservation
from engine.persistence.types import utcnow
from engine.persistence.workflow_tables import HumanTask, HumanTaskCandidate, OutboxJob, ProcessInstance, Voucher
from engine.services import outbox, processes
from engine.services.steps import Outcome, load_run
from engine.workflow.runtime import WorkflowRun
from engine.workflow.service_tasks import new_script_engine

BPMN = Path(__file__).resolve().parents[2] / "bpmn"

APPLICANT, MANAGER, DEPARTMENT_HEAD, FINANCE_DIRECTOR = "E0017", "E0005", "E0002", "E0009"
FINANCE = ("E0009", "E0011", "E0012")  # role finance; E0009 is also the finance director
BUDGET_ADMIN = "E0013"
COUNTERSIGNERS = {BUDGET_ADMIN, *FINANCE}  # the engine's default 会签 list for E0017
TRAVEL_LINE = "2026/ORG:SALES-N/TRAVEL"
START = {"period": "2026", "currency": "CNY"}
PREFIX = {"travel_application": "TA", "expense_claim": "EC"}
POLICY = outbox.RetryPolicy(max_attempts=3, base=timedelta(seconds=0))


def line_key(subject: str) -> str:
    return f"2026/ORG:SALES-N/{subject}"


class FlakyErp:
    """Fails the first ``failures`` posts with a non-retryable ERP_POST_FAILED, then posts for real."""

    def __init__(self, inner: Any, failures: int = 1) -> None:
        self.inner, self.failures = inner, failures

    def post_voucher(self, draft: Any, *, idempotency_key: str, **options: Any) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectorError("ERP_POST_FAILED", "Vendor V-QH0017 is blocked in the ERP", retryable=False)
        return self.inner.post_voucher(draft, idempotency_key=idempotency_key, **options)

    def find_voucher(self, *, idempotency_key: str) -> Any:
        return self.inner.find_voucher(idempotency_key=idempotency_key)

    def list_vouchers(self, **window):
        return self.inner.list_vouchers(**window)

    @property
    def name(self):
        return self.inner.name


class Flow:
    """One demo company with the real diagrams deployed; helpers act as the people in the inbox."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.runner = app.job_runner()
        self.restores = 0  # saved states checked by save/restore
        self._numbers = itertools.count(1)
        self._invoices = itertools.count(10000001)

    # -- starting and acting ---------------------------------------------------------------------------
    def start(self, process_id: str, *, applicant: str = APPLICANT, application_no: str | None = None,
              **data: Any) -> int:
        number = f"{PREFIX[process_id]}-2026-{next(self._numbers):04d}"
        started = processes.start(self.app.uow, process_id=process_id, applicant=applicant, business_key=number,
                                  data={**START, **data}, application_no=application_no)
        self.settle(started.instance_id)
        return started.instance_id

    def apply(self, amount: str, subject: str = "TRAVEL", **form: Any) -> int:
        """A travel application, filled in and submitted by the applicant."""
        instance = self.start("travel_application")
        self.act(instance, {"subject": subject, "purpose": "Customer visit 客户拜访", "amount": amount,
                            "currency": "CNY", "period": "2026", **form})
        return instance

    def lines(self, *amounts: str, subject: str = "TRAVEL") -> list[dict[str, str]]:
        """Claim lines with fresh invoice numbers (an invoice may be claimed only once per database)."""
        return [{"subject": subject, "amount": a, "tax": "0.00", "invoice_code": "011002300111",
                 "invoice_number": str(next(self._invoices))} for a in amounts]

    def claim(self, *amounts: str, subject: str = "TRAVEL", lines: list | None = None, **start: Any) -> int:
        """An expense claim, filled in and submitted by the applicant (``start`` may link an application)."""
        instance = self.start("expense_claim", **start)
        self.act(instance, {"subject": subject, "purpose": "Shanghai trip 上海出差", "currency": "CNY",
                            "period": "2026", "lines": lines or self.lines(*amounts, subject=subject)})
        return instance

    def act(self, instance: int, form: dict[str, Any], *, bpmn_id: str | None = None, user: str | None = None,
            settle: bool = True) -> Outcome:
        """Complete the instance's single open task (of ``bpmn_id``) as its first candidate (or ``user``)."""
        task = self.task(instance, bpmn_id, user)
        done = processes.complete_task(self.app.uow, task_guid=task["task_guid"], user=user or task["candidates"][0],
                                       form=form)
        self.assert_save_restore(instance)
        if settle:
            self.settle(instance)
        return done

    def decide(self, instance: int, decision: str = "approve", comment: str = "", **kw: Any) -> Outcome:
        return self.act(instance, {"decision": decision, "comment": comment}, **kw)

    def withdraw(self, instance: int, *, user: str = APPLICANT, reason: str = "Trip cancelled 行程取消") -> None:
        processes.send_message(self.app.uow, instance_id=instance, name="withdraw", payload={"reason": reason},
                               user=user)
        self.assert_save_restore(instance)
        self.settle(instance)

    def settle(self, instance: int | None = None) -> int:
        """Run the outbox worker until nothing is due (notifications, ERP posts); returns the jobs run."""
        ran = outbox.run_due(self.app.uow, self.runner, policy=POLICY)
        if instance is not None:
            self.assert_save_restore(instance)
        return ran

    # -- timers ------------------------------------------------------------------------------------------
    def waiting_timers(self, instance: int) -> list[str]:
        with self.app.uow() as uow:
            _row, run = load_run(uow, instance)
            return sorted(t.task_spec.bpmn_id for t in run.wf.get_tasks(state=TaskState.WAITING)
                          if "event_value" in t.internal_data)

    def force_due(self, instance: int, *bpmn_ids: str) -> None:
        """Rewrite the saved state: the named waiting timers fall due a second ago (nothing runs yet)."""
        past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        with self.app.uow() as uow:
            row, run = load_run(uow, instance)
            for bpmn_id in bpmn_ids:
                found = [t for t in run.wf.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == bpmn_id]
                assert len(found) == 1, (bpmn_id, [t.task_spec.bpmn_id for t in run.wf.get_tasks(
                    state=TaskState.WAITING)])
                value = found[0].internal_data["event_value"]
                if isinstance(value, dict):  # a cycle timer: {'cycles', 'next', 'duration'}
                    value["next"] = past
                else:
                    found[0].internal_data["event_value"] = past
            uow.instances.save(row, state=run.dump(), status=row.status, outcome=None,
                               next_timer_at=run.next_timer_at())
            uow.commit()

    def fire_timers(self, instance: int) -> int:
        """The worker's timer poll (processes.fire_due_timers), then its outbox run."""
        fired = processes.fire_due_timers(self.app.uow, now=utcnow())
        self.assert_save_restore(instance)
        self.settle(instance)
        return fired

    # -- reading -----------------------------------------------------------------------------------------
    def open_tasks(self, instance: int) -> list[dict[str, Any]]:
        with self.app.session_factory() as s:
            rows = s.execute(select(HumanTask.task_guid, HumanTask.bpmn_id, HumanTask.lane, HumanTask.candidates)
                             .where(HumanTask.instance_id == instance, HumanTask.status == "open")
                             .order_by(HumanTask.id)).all()
        return [{"task_guid": g, "bpmn_id": b, "lane": lane, "candidates": json.loads(c)} for g, b, lane, c in rows]

    def inbox(self, instance: int) -> list[tuple[str, str | None, list[str]]]:
        """(bpmn id, lane, candidates) of every open task, sorted."""
        return sorted((t["bpmn_id"], t["lane"], t["candidates"]) for t in self.open_tasks(instance))

    def task(self, instance: int, bpmn_id: str | None = None, user: str | None = None) -> dict[str, Any]:
        found = [t for t in self.open_tasks(instance) if (bpmn_id is None or t["bpmn_id"] == bpmn_id)
                 and (user is None or user in t["candidates"])]
        assert len(found) == 1, (bpmn_id, user, self.inbox(instance))
        return found[0]

    def task_data(self, instance: int, bpmn_id: str | None = None) -> dict[str, Any]:
        guid = self.task(instance, bpmn_id)["task_guid"]
        with self.app.uow() as uow:
            return load_run(uow, instance)[1].task_data(guid)

    def data(self, instance: int) -> dict[str, Any]:
        """The workflow's data (complete), else the data of the task that ran last."""
        with self.app.uow() as uow:
            return load_run(uow, instance)[1].data

    def instance(self, instance: int) -> Any:
        with self.app.session_factory() as s:
            return s.execute(select(ProcessInstance.status, ProcessInstance.outcome, ProcessInstance.business_key)
                             .where(ProcessInstance.id == instance)).one()

    def finished(self, instance: int) -> tuple[str, str | None]:
        row = self.instance(instance)
        return row.status, row.outcome

    def balance(self, key: str = TRAVEL_LINE) -> LineBalance:
        with self.app.session_factory() as s:
            found = [b for b in balances(s, prefix=key) if b.label == key]
        assert len(found) == 1, key
        return found[0]

    def reserved(self, key: str = TRAVEL_LINE) -> Decimal:
        return self.balance(key).reserved

    def reservations(self, document_no: str) -> list[tuple[Decimal, Decimal, Decimal, str]]:
        """(amount, consumed, released, status) of the document's reservations, oldest first."""
        with self.app.session_factory() as s:
            rows = s.execute(select(Reservation.amount, Reservation.consumed, Reservation.released,
                                    Reservation.status).where(Reservation.document_ref == document_no)
                             .order_by(Reservation.id)).all()
        return [tuple(r) for r in rows]

    def jobs(self, instance: int, operator: str | None = None) -> list[dict[str, Any]]:
        with self.app.session_factory() as s:
            stmt = select(OutboxJob.operator, OutboxJob.status, OutboxJob.params).where(
                OutboxJob.instance_id == instance).order_by(OutboxJob.id)
            rows = s.execute(stmt).all()
        return [{"operator": op, "status": st, **json.loads(p)} for op, st, p in rows
                if operator is None or op == operator]

    def templates(self, instance: int) -> list[str]:
        """The templates of the diagram's own notify/Send tasks, in order (not the engine's task_opened ones)."""
        return [to_and_template[1] for to_and_template in self.notifications(instance)]

    def notifications(self, instance: int) -> list[tuple[str, str]]:
        """(to, template) of the diagram's own notify/Send tasks, in order (not the engine's task_opened ones)."""
        return [(j["to"], j["template"]) for j in self.jobs(instance, "notify/Send") if j["template"] != "task_opened"]

    def opened(self, instance: int) -> list[str]:
        """The user tasks whose opening queued a work notification (``notify="on_open"``), by BPMN id, in order."""
        with self.app.session_factory() as s:
            rows = s.execute(select(HumanTask.bpmn_id, OutboxJob.params)
                             .join(HumanTask, HumanTask.task_guid == OutboxJob.task_guid)
                             .where(OutboxJob.instance_id == instance, OutboxJob.operator == "notify/Send")
                             .order_by(OutboxJob.id)).all()
        return [bpmn_id for bpmn_id, params in rows if json.loads(params)["template"] == "task_opened"]

    def vouchers(self, document_no: str) -> list[str]:
        with self.app.session_factory() as s:
            return list(s.scalars(select(Voucher.voucher_no).where(Voucher.document_no == document_no)))

    # -- the inbox index -------------------------------------------------------------------------------------
    def assert_inbox_index(self) -> None:
        """human_task_candidate holds exactly the candidates of the open tasks, and nothing of closed ones."""
        with self.app.session_factory() as s:
            open_rows = s.execute(select(HumanTask.id, HumanTask.candidates).where(HumanTask.status == "open"))
            expected = {(task_id, e) for task_id, text in open_rows for e in json.loads(text)}
            indexed = set(s.execute(select(HumanTaskCandidate.task_id, HumanTaskCandidate.employee)).tuples())
        assert indexed == expected

    # -- the save/restore check ----------------------------------------------------------------------------
    def assert_save_restore(self, instance: int) -> None:
        """The saved state deserializes and re-serializes to the same JSON (SpiffWorkflow's save_restore)."""
        with self.app.session_factory() as s:
            state = s.scalar(select(ProcessInstance.state).where(ProcessInstance.id == instance))
        assert state, f"instance {instance} has no saved state"
        again = WorkflowRun.load(state, new_script_engine()).dump()
        assert json.loads(again) == json.loads(state)
        self.restores += 1
