"""``budgetflow simulate``: applications and claims of the demo company through the real diagrams.

Rule-based approvers act through the same task-completion service a person uses; the
outbox worker runs the connector jobs (notifications, voucher posting to the local ERP).
Measured for this run's documents alone: outcomes, vouchers, left-over reservations,
the automation rate (share of steps no person did) and the cycle time from claim
submission to posted voucher. The database's totals are collected apart, because a
database that was used before holds more than this run made.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.domain.budget_line import BudgetLineKey
from engine.services import outbox, processes
from engine.services.steps import Outcome

APPLICANTS = {  # employee -> org unit, from the demo company's data dictionary
    "E0017": "SALES-N", "E0018": "SALES-N", "E0019": "SALES-E", "E0020": "SALES-E",
    "E0021": "RND-PLAT", "E0022": "RND-PLAT", "E0023": "RND-PROD", "E0024": "HR",
}
SUBJECTS = ("TRAVEL", "HOTEL", "MEALS", "TRANSPORT")
# Document number prefix -> the process (bpmn/) that runs such a document.
PROCESS_CODES = {"TA": "travel_application", "EC": "expense_claim"}
AUTOMATIC_WORK = {"ConnectorServiceTask", "ScriptTask", "BusinessRuleTask"}  # not events, gateways, joins


@dataclass
class SimulationReport:
    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: {p: Counter() for p in PROCESS_CODES.values()})
    human_steps: int = 0
    automatic_steps: int = 0
    cycle_seconds: list[float] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)

    @property
    def automation_rate(self) -> float:
        total = self.human_steps + self.automatic_steps
        return self.automatic_steps / total if total else 0.0


@dataclass
class Simulator:
    container: Any
    rng: random.Random
    report: SimulationReport = field(default_factory=SimulationReport)
    run_id: str = field(default_factory=lambda: time.strftime("%Y%m%d%H%M%S"))

    def __post_init__(self) -> None:
        self.runner = self.container.job_runner()

    def run(self, claims: int, progress: Callable[[int], None] = lambda _n: None) -> SimulationReport:
        """``claims`` applications, each followed by its claim if approved; ``progress(1)`` after each."""
        for n in range(claims):
            self.one(n)
            progress(1)
        self.report.automatic_steps = automatic_steps(self.container.reader, self.report.documents)
        return self.report

    def one(self, n: int) -> None:
        applicant = self.rng.choice(list(APPLICANTS))
        subject = self.rng.choice(self._subjects_of(APPLICANTS[applicant]))
        estimate = Decimal(self.rng.choice([800, 2600, 4800, 7200, 12000, 26000])) + Decimal(self.rng.randint(0, 99))
        application = f"TA-{self.run_id}-{n:04d}"
        app_out = self._application(application, applicant, subject, estimate)
        if app_out.outcome != "approved":
            return
        spent = (estimate * Decimal(self.rng.choice(["0.85", "0.97", "1.00", "1.03"]))).quantize(Decimal("0.01"))
        claim = f"EC-{self.run_id}-{n:04d}"
        began = time.perf_counter()
        out = self._claim(claim, applicant, subject, spent, application, n)
        if out.outcome == "posted":
            self.report.cycle_seconds.append(time.perf_counter() - began)

    def _application(self, number: str, applicant: str, subject: str, amount: Decimal) -> Any:
        data = {"currency": "CNY", "period": "2026"}
        out = processes.start(self.container.uow, process_id=PROCESS_CODES["TA"], applicant=applicant,
                              business_key=number, data=data)
        form = {"subject": subject, "purpose": "customer visit 客户拜访", "amount": str(amount),
                "currency": "CNY", "period": "2026"}
        return self._drive(out, number, applicant, form)

    def _claim(self, number: str, applicant: str, subject: str, amount: Decimal, application: str,
               n: int) -> Any:
        data = {"currency": "CNY", "period": "2026"}
        out = processes.start(self.container.uow, process_id=PROCESS_CODES["EC"], applicant=applicant,
                              business_key=number, data=data, application_no=application)
        lines = [{"subject": subject, "amount": str(amount), "tax": "0.00", "invoice_code": "011002600111",
                  "invoice_number": f"{self.run_id[-6:]}{n:05d}"}]
        form = {"subject": subject, "purpose": "customer visit 客户拜访", "currency": "CNY", "period": "2026",
                "lines": lines}
        return self._drive(out, number, applicant, form)

    def _drive(self, out: Any, number: str, applicant: str, applicant_form: dict[str, Any]) -> Any:
        """Act on every open task as a rule-based person would, and let the worker run, until the end."""
        for _ in range(50):
            if out.open_tasks:
                task = out.open_tasks[0]
                user = applicant if task["lane"] == "applicant" else task["candidates"][0]
                form = applicant_form if task["lane"] == "applicant" else self._decide(task)
                out = processes.complete_task(self.container.uow, task_guid=task["task_guid"], user=user, form=form)
                self.report.human_steps += 1
                continue
            outbox.run_due(self.container.uow, self.runner, policy=self.container.retry_policy())
            out = self._reload(out.instance_id)
            if out.status == "complete":
                break
        self.report.outcomes[PROCESS_CODES[number[:2]]][out.outcome or out.status] += 1
        self.report.documents.append(number)
        return out

    def _decide(self, task: dict[str, Any]) -> dict[str, Any]:
        if task["bpmn_id"] == "fix_posting":
            return {"comment": "fixed"}
        decision = "reject" if self.rng.random() < 0.04 else "approve"
        return {"decision": decision, "comment": "同意 agreed" if decision == "approve" else "over policy 超标"}

    def _reload(self, instance_id: int) -> Any:
        with self.container.reader() as uow:
            row = uow.instances.lock(instance_id)
            tasks = uow.instances.open_tasks_of_instance(instance_id)
            outcome = uow.instances.outcome_of(instance_id)
        return Outcome(instance_id, row.status, outcome, tasks)

    def _subjects_of(self, unit: str) -> list[str]:
        """Subjects the unit has a FY2026 line for, so most requests meet a budget (some still exceed it)."""
        with self.container.reader() as uow:
            found = [s for s in SUBJECTS if uow.claims.line_id(BudgetLineKey("2026", s, org_unit=unit))]
        return found or list(SUBJECTS)


def automatic_steps(reader: Callable[[], Any], documents: list[str]) -> int:
    """Steps no person did for ``documents``: service, script and rule tasks the engine ran (from the
    audit log), and the connector jobs the worker finished for them."""
    wanted = set(documents)
    with reader() as uow:
        engine_steps = sum(
            1 for e in uow.reports.audit_rows("engine.steps") if e.record.subject_id in wanted
            for step in e.record.payload.get("steps", [])
            if step.get("kind") in AUTOMATIC_WORK and step.get("state") == "COMPLETED")
        return int(engine_steps + uow.reports.jobs_done(wanted))


@dataclass(frozen=True)
class Figures:
    """Vouchers, balances and left-overs: for this run's documents, or for the whole database."""

    vouchers: int
    left_over: dict[str, Decimal]  # currency -> what finished requests still hold
    left_over_count: int
    lines_touched: list[Any]  # budget lines with anything reserved or consumed (database totals only)


def figures(reader: Callable[[], Any], documents: list[str] | None) -> Figures:
    """``documents``: this run's; None: the whole database (earlier runs and real documents included)."""
    wanted = None if documents is None else set(documents)
    with reader() as uow:
        vouchers = uow.reports.vouchers(wanted)
        left = [r for r in uow.reports.open_reservations()
                if r.document_status == "complete" and (wanted is None or r.document in wanted)]
        lines = [] if wanted is not None else [b for b in uow.reports.balances() if b.reserved or b.consumed]
    held: dict[str, Decimal] = {}
    for r in left:
        held[r.currency] = held.get(r.currency, Decimal(0)) + r.remaining
    return Figures(int(vouchers), held, len(left), lines)
