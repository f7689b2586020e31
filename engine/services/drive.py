"""Drive one instance through the real services on a virtual clock: what ``bpmn test`` and ``bpmn replay`` share.

Every action goes through processes.start / complete_task / send_message / fire_due_timers with the
clock's time, and after each the outbox worker runs the connector jobs (notifications, budget, the ERP),
so a run here is a run in production, only faster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.domain.errors import BudgetflowError
from engine.domain.journal import Observation
from engine.domain.scenario import ANY_CANDIDATE
from engine.services import outbox, processes
from engine.services.ports import UnitOfWorkFactory
from engine.services.steps import Outcome


class StepRefused(Exception):
    """A step that could not be taken: the task is not open, the person may not act, the service refused."""

    def __init__(self, element: str, reason: str) -> None:
        super().__init__(f"{element}: {reason}")
        self.element, self.reason = element, reason


@dataclass
class Driver:
    """The services, the job runner and a clock; ``now`` moves only when told (``advance`` or ``move_to``)."""

    uow: UnitOfWorkFactory
    runner: Any
    policy: outbox.RetryPolicy
    now: datetime
    outcomes: list[Outcome] = field(default_factory=list)

    def settle(self) -> None:
        """Run every due connector job (the worker would, within seconds)."""
        for _ in range(20):  # a job may queue another (a posted voucher's notification)
            if outbox.run_due(self.uow, self.runner, policy=self.policy) == 0:
                return

    def start(self, *, process_id: str, applicant: str, business_key: str, data: dict[str, Any],
              application_no: str | None = None, message: tuple[str, dict[str, Any]] | None = None,
              actor: str | None = None) -> int:
        try:
            out = processes.start(self.uow, process_id=process_id, applicant=applicant, business_key=business_key,
                                  data=data, application_no=application_no, message=message, actor=actor,
                                  now=self.now)
        except BudgetflowError as refused:  # a refusal or a failed step is a finding here
            raise StepRefused(process_id, _reason(refused)) from None
        self.settle()
        return out.instance_id

    def complete(self, instance_id: int, bpmn_id: str, by: str | None, form: dict[str, Any]) -> None:
        task = self.open_task(instance_id, bpmn_id, by)
        user = by if by and by != ANY_CANDIDATE else (task["candidates"] or [""])[0]
        try:
            processes.complete_task(self.uow, task_guid=task["task_guid"], user=user, form=form, now=self.now)
        except BudgetflowError as refused:
            raise StepRefused(bpmn_id, _reason(refused)) from None
        self.settle()

    def send(self, instance_id: int, name: str, by: str, payload: dict[str, Any]) -> None:
        try:
            processes.send_message(self.uow, instance_id=instance_id, name=name, payload=payload, user=by,
                                   now=self.now)
        except BudgetflowError as refused:
            raise StepRefused(name, _reason(refused)) from None
        self.settle()

    def advance(self, by: timedelta) -> None:
        self.move_to(self.now + by)

    def move_to(self, when: datetime) -> None:
        """Let time pass until ``when`` (never backwards): due timers fire, then the jobs they queued run."""
        self.now = max(self.now, when)
        processes.fire_due_timers(self.uow, now=self.now)
        self.settle()

    def open_task(self, instance_id: int, bpmn_id: str, by: str | None) -> dict[str, Any]:
        tasks = self.open_tasks(instance_id)
        same = [t for t in tasks if t["bpmn_id"] == bpmn_id]
        if not same:
            reached = ", ".join(t["bpmn_id"] for t in tasks) or self._ended(instance_id)
            raise StepRefused(bpmn_id, f"not open (open: {reached})")
        if by and by != ANY_CANDIDATE:
            mine = [t for t in same if by in t["candidates"]]
            if not mine:
                offered = ", ".join(sorted({c for t in same for c in t["candidates"]}))
                raise StepRefused(bpmn_id, f"{by} is not a candidate (candidates: {offered})")
            return mine[0]
        return same[0]

    def open_tasks(self, instance_id: int) -> list[dict[str, Any]]:
        with self.uow() as uow:
            return uow.instances.open_tasks_of_instance(instance_id)

    def observe(self, instance_id: int) -> Observation:
        with self.uow() as uow:
            return uow.journal.observe(instance_id)

    def _ended(self, instance_id: int) -> str:
        seen = self.observe(instance_id)
        return f"none; the instance is {seen.status}" + (f", {seen.outcome}" if seen.outcome else "")


def _reason(error: BudgetflowError) -> str:
    problems = getattr(error, "problems", None)
    text = "; ".join(str(p) for p in problems) if problems else str(error)
    return f"refused: {text}" if text else f"refused: {type(error).__name__}"
