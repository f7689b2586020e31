"""The discrete-event simulation: requests, people and timers on a virtual clock.

A priority queue holds what happens next: a request arriving, a person answering a task (at a
time drawn from their lane's response times, within business hours), a claim following its
approved application. Between events the clock moves in steps of ``TIMER_POLL`` while documents
run, and the engine's due timers fire at each (reminders, SLA escalations), exactly as the
worker would fire them. Every engine step gets the virtual time (``now=``); the outbox runs the
connector jobs after each step, resuming the instances it finishes at virtual time. No sleeping.
"""

from __future__ import annotations

import heapq
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.domain.budget_line import BudgetLineKey
from engine.domain.errors import BudgetflowError
from engine.services import outbox, processes
from engine.services.steps import Outcome
from engine.simulation.diagram import escalation_ids
from engine.simulation.draws import draw, weighted
from engine.simulation.people import FormFields, decision, extra_fields, money, only
from engine.simulation.population import Population, PopulationInvalid
from engine.simulation.report import PROCESS_CODES, SimulationReport, Span
from engine.simulation.tally import step_counts

TIMER_POLL = timedelta(minutes=15)  # how often the virtual worker looks for due timers
MAX_ANSWERS = 100  # per document: a send-back loop that never ends stops here
REMINDER_TEMPLATE = "approval_reminder"


@dataclass
class OpenTask:
    instance_id: int
    bpmn_id: str
    lane: str | None
    user: str | None
    form_key: str | None
    opened_at: datetime


@dataclass
class Document:
    number: str
    process: str
    applicant: str
    subject: str
    amount: Decimal
    serial: int
    request_start: datetime | None = None  # the first submission of the request it belongs to
    submitted_at: datetime | None = None
    answers: int = 0


class _CountingRunner:
    """The container's job runner, counting the reminders it sends for this run's documents."""

    def __init__(self, inner: Any, report: SimulationReport, documents: set[str]) -> None:
        self.inner, self.report, self.documents = inner, report, documents

    def run(self, operator: str, params: dict[str, Any], *, key: str, attempt: int = 1
            ) -> dict[str, Any] | outbox.Completed:
        result: dict[str, Any] | outbox.Completed = self.inner.run(operator, params, key=key, attempt=attempt)
        if (operator == "notify/Send" and params.get("template") == REMINDER_TEMPLATE
                and params.get("document_no") in self.documents):
            self.report.reminders_sent += 1
        return result


class Simulator:
    """``Simulator(container, population, rng, files).run(requests)``: ``files`` is the deployed bundle."""

    def __init__(self, container: Any, population: Population, rng: random.Random, files: dict[str, str],
                 run_id: str | None = None) -> None:
        self.container, self.population, self.rng = container, population, rng
        self.spec = population.spec
        self.calendar = population.calendar
        self.forms = FormFields(files)
        self.escalation_ids = escalation_ids(files)
        self.report = SimulationReport()
        self.run_id = run_id or time.strftime("%Y%m%d%H%M%S")
        self.numbers: set[str] = set()
        self.runner = _CountingRunner(container.job_runner(), self.report, self.numbers)
        self.queue: list[tuple[datetime, int, str, Any]] = []
        self.order = itertools.count()
        self.open: dict[str, OpenTask] = {}
        self.docs: dict[int, Document] = {}
        self.live: set[int] = set()
        self.now = population.start.astimezone(UTC)

    # -- the loop

    def run(self, requests: int, progress: Callable[[int], None] = lambda _n: None) -> SimulationReport:
        """``requests`` arrivals (by the population's mix), run until every document ends or the horizon."""
        self.progress = progress
        self.report.started_at = self.now.astimezone(self.calendar.timezone)
        self._check_applicants()
        self._schedule_arrivals(requests)
        horizon = self.now + timedelta(days=int(self.spec.get("horizon_days", 365)))
        next_poll = self.now
        while (self.queue or self._waiting()) and self.now <= horizon:
            due = self.queue[0][0] if self.queue else None
            if self.live and (due is None or next_poll <= due):
                self.now = max(self.now, next_poll)
                self._fire_timers()
                next_poll = self.now + TIMER_POLL
                continue
            at, _n, kind, item = heapq.heappop(self.queue)
            self.now = max(self.now, at)
            getattr(self, f"_on_{kind}")(item)
            self._run_jobs()
        self.report.ended_at = self.now.astimezone(self.calendar.timezone)
        self.report.unfinished = len(self.live)
        self._tally()
        return self.report

    def _push(self, at: datetime, kind: str, item: Any) -> None:
        heapq.heappush(self.queue, (at, next(self.order), kind, item))

    def _waiting(self) -> bool:
        """Whether a running document can still move: a task someone will answer, or a timer before the horizon."""
        if not self.live:
            return False
        if any(t.user for t in self.open.values()):
            return True
        with self.container.reader() as uow:
            return bool(set(uow.instances.due_timer_instances(self.now + timedelta(days=3650))) & self.live)

    def _schedule_arrivals(self, requests: int) -> None:
        per_hour = float(self.spec["arrivals"]["per_working_day"]) / self.calendar.hours_per_day
        at = self.calendar.next_open(self.now)
        for serial in range(requests):
            self._push(at.astimezone(UTC), "arrive", serial)
            at = self.calendar.add_working_hours(at, self.rng.expovariate(per_hour))

    # -- events

    def _on_arrive(self, serial: int) -> None:
        kind = weighted(self.spec["requests"], self.rng)
        applicant = self._applicant()
        subject = weighted(self._subjects(applicant), self.rng)
        amount = money(draw(self.spec["amounts"], self.rng))
        code = "TA" if kind == "travel_application" else "EC"
        self._start(Document(f"{code}-{self.run_id}-{serial:04d}", kind, applicant, subject, amount, serial))
        self.progress(1)

    def _on_claim(self, application: Document) -> None:
        spent = money(application.amount * Decimal(str(draw(self.spec["claims"]["spent_ratio"], self.rng))))
        claim = Document(f"EC-{self.run_id}-{application.serial:04d}", "expense_claim", application.applicant,
                         application.subject, spent, application.serial, request_start=application.request_start)
        self._start(claim, application_no=application.number)

    def _on_respond(self, task_guid: str) -> None:
        task = self.open.get(task_guid)
        if task is None or task.user is None:
            return  # escalated, cancelled or finished meanwhile
        doc = self.docs[task.instance_id]
        doc.answers += 1
        if doc.answers > MAX_ANSWERS:
            self._refused(doc, task.bpmn_id, f"more than {MAX_ANSWERS} answers; left open")
            task.user = None  # nobody answers it any more: only its timers may move it
            return
        try:
            out = processes.complete_task(self.container.uow, task_guid=task_guid, user=task.user,
                                          form=self._form(doc, task), now=self.now)
        except BudgetflowError as error:
            self._refused(doc, task.bpmn_id, str(error))
            del self.open[task_guid]
            self._sync(self._reload(task.instance_id))
            return
        self.report.human_steps += 1
        self.report.wait(task.bpmn_id, self.calendar.working_hours_between(task.opened_at, self.now))
        if task.lane == "applicant" and doc.submitted_at is None:
            doc.submitted_at = self.now
            doc.request_start = doc.request_start or self.now
        del self.open[task_guid]
        self._sync(out)

    # -- the engine

    def _start(self, doc: Document, application_no: str | None = None) -> None:
        self.numbers.add(doc.number)
        try:
            out = processes.start(self.container.uow, process_id=doc.process, applicant=doc.applicant,
                                  business_key=doc.number, data={"currency": "CNY", "period": "2026"},
                                  application_no=application_no, now=self.now)
        except BudgetflowError as error:
            self._refused(doc, "start", str(error))
            return
        self.docs[out.instance_id] = doc
        self.live.add(out.instance_id)
        self.report.documents.append(doc.number)
        self._sync(out)

    def _fire_timers(self) -> None:
        if processes.fire_due_timers(self.container.uow, now=self.now):
            self._run_jobs(force=True)

    def _run_jobs(self, force: bool = False) -> None:
        """Connector jobs due now; then every running document that may have moved is looked at again."""
        ran = outbox.run_due(self.container.uow, self.runner, policy=self.container.retry_policy(),
                             resume_at=self.now)
        if ran or force:
            for instance_id in sorted(self.live):
                self._sync(self._reload(instance_id))

    def _reload(self, instance_id: int) -> Outcome:
        with self.container.reader() as uow:
            row = uow.instances.lock(instance_id)
            tasks = uow.instances.open_tasks_of_instance(instance_id)
            outcome = uow.instances.outcome_of(instance_id)
        return Outcome(instance_id, row.status, outcome, tasks)

    def _sync(self, out: Outcome) -> None:
        """Tasks that opened get an answer scheduled; tasks that closed with nobody acting are counted."""
        doc = self.docs.get(out.instance_id)
        if doc is None or out.instance_id not in self.live:
            return
        current = {t["task_guid"]: t for t in out.open_tasks}
        for guid, known in list(self.open.items()):
            if known.instance_id == out.instance_id and guid not in current:  # escalated or cancelled
                self.report.unanswered[known.bpmn_id] += 1
                self.report.wait(known.bpmn_id, self.calendar.working_hours_between(known.opened_at, self.now))
                del self.open[guid]
        for guid, task in current.items():
            if guid not in self.open:
                self._opened(doc, out.instance_id, guid, task)
        if out.status in ("complete", "incident"):
            self._finished(doc, out)

    def _opened(self, doc: Document, instance_id: int, guid: str, task: dict[str, Any]) -> None:
        lane = task.get("lane")
        people = [p for p in task.get("candidates") or [] if p != doc.applicant]
        user = doc.applicant if lane == "applicant" else (task.get("assignee") or (people[0] if people else None))
        self.open[guid] = OpenTask(instance_id, task["bpmn_id"], lane, user, task.get("form_key"), self.now)
        if user is None:
            self._refused(doc, task["bpmn_id"], "nobody can take this task; it waits for its timers")
            return
        hours = float(draw(self.population.behaviour(lane, task["bpmn_id"]).get("response_hours", 0), self.rng))
        answer = self.calendar.add_working_hours(self.now.astimezone(self.calendar.timezone), hours)
        self._push(answer.astimezone(UTC), "respond", guid)

    def _finished(self, doc: Document, out: Outcome) -> None:
        self.live.discard(out.instance_id)
        outcome = out.outcome or out.status
        self.report.outcomes.setdefault(doc.process, Counter())[outcome] += 1
        if doc.process == "travel_application" and doc.submitted_at:
            self.report.cycles["application"].append(self._span(doc.submitted_at))
            if outcome == "approved":
                self._push(self.now, "claim", doc)
        if doc.process == "expense_claim" and outcome == "posted" and doc.submitted_at and doc.request_start:
            self.report.cycles["claim"].append(self._span(doc.submitted_at))
            self.report.cycles["request"].append(self._span(doc.request_start))

    def _span(self, since: datetime) -> Span:
        return Span(round(self.calendar.working_hours_between(since, self.now), 3),
                    round((self.now - since).total_seconds() / 86400, 4))

    def _refused(self, doc: Document, where: str, why: str) -> None:
        self.report.refused.append(f"{doc.number}:{where}: {why}")

    def _tally(self) -> None:
        automatic, escalations, shas = step_counts(self.container.reader, self.report.documents,
                                                   self.escalation_ids, list(self.docs))
        self.report.automatic_steps = automatic
        self.report.escalations = escalations
        self.report.model_shas = shas

    # -- what people send

    def _form(self, doc: Document, task: OpenTask) -> dict[str, Any]:
        fields = self.forms.of(task.form_key)
        if task.lane != "applicant":
            return decision(self.population.behaviour(task.lane, task.bpmn_id), fields, self.rng)
        form: dict[str, Any] = {"subject": doc.subject, "purpose": "customer visit 客户拜访", "currency": "CNY",
                                "period": "2026", **extra_fields(self.spec.get("fields", {}), self.rng)}
        if doc.process == "expense_claim":
            form["lines"] = [{"subject": doc.subject, "amount": str(doc.amount), "tax": "0.00",
                              "invoice_code": "011002600111", "invoice_number": f"{self.run_id[-6:]}{doc.serial:05d}"}]
        else:
            form["amount"] = str(doc.amount)
        return only(form, fields)

    def _check_applicants(self) -> None:
        """Every applicant the population names is an active employee, every unit has one: before anything runs."""
        chosen: dict[str, Any] = self.spec["applicants"]
        problems = [f"{self.population.source}: applicants.units.{unit}: no active employee in org unit {unit}"
                    for unit in chosen.get("units", {}) if not self._members(unit)]
        with self.container.reader() as uow:
            problems += [f"{self.population.source}: applicants.employees.{code}: not an active employee"
                         for code in chosen.get("employees", {}) if not uow.directory.is_active(code)]
        if problems:
            raise PopulationInvalid(problems)

    def _applicant(self) -> str:
        chosen: dict[str, Any] = self.spec["applicants"]
        if "employees" in chosen:
            return weighted(chosen["employees"], self.rng)
        unit = weighted(chosen["units"], self.rng)
        return self.rng.choice(self._members(unit))

    def _members(self, unit: str) -> list[str]:
        if not hasattr(self, "_unit_members"):
            with self.container.reader() as uow:
                people = sorted(uow.org_sync.employee_codes())
                self._unit_members: dict[str, list[str]] = {}
                for code in people:
                    found = uow.directory.unit_of(code)
                    if found is not None and uow.directory.is_active(code):
                        self._unit_members.setdefault(found.code, []).append(code)
        return self._unit_members.get(unit, [])

    def _subjects(self, applicant: str) -> dict[str, float]:
        """The population's subjects; only those the unit has a FY2026 line for, if it says so (and has any)."""
        shares: dict[str, float] = self.spec["subjects"]
        if not self.spec.get("budgeted_subjects_only", True):
            return shares
        with self.container.reader() as uow:
            unit = uow.directory.unit_of(applicant)
            found = {s: w for s, w in shares.items() if w and unit is not None
                     and uow.claims.line_id(BudgetLineKey("2026", s, org_unit=unit.code))}
        return found or shares


__all__ = ["PROCESS_CODES", "Simulator"]
