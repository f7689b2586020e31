"""The periodic jobs of a budgetflow process and how often each runs: their one definition.

``budgetflow worker`` (and its alias ``scheduler``) runs these and nothing else; see loop.py for how.

| job              | every              | what                                                        |
|------------------|--------------------|-------------------------------------------------------------|
| outbox           | poll (1 s) or busy | connector jobs: ERP vouchers, notifications                 |
| timers           | poll (1 s) or busy | due BPMN timers: reminders, SLA escalations                 |
| expiry           | hour               | release left-over reservations (BUDGETFLOW_RESERVATION_VALID_DAYS) |
| audit-anchor     | minute             | verify new audit rows and advance the anchor file           |
| oa-callbacks     | poll (1 s) or busy | apply stored OA callbacks (only with an OA suite configured) |
| oa-sync          | hour (setting)     | people from the OA directories, if an OA is configured (docs/oa.md) |
| erp-payments     | 15 min (setting)   | payments read back from a vendor ERP: claims marked paid (docs/erp.md) |
| erp-reconcile    | day (setting)      | the last 31 days of a vendor ERP's book against budgetflow (docs/erp.md) |

The oa-sync interval is BUDGETFLOW_OA_SYNC_INTERVAL, erp-payments' BUDGETFLOW_PAYMENT_SYNC_INTERVAL and
erp-reconcile's BUDGETFLOW_RECONCILE_INTERVAL (seconds; 0 turns the job off). The ERP jobs run only with a
vendor ERP configured: the built-in local ERP pays nobody and cannot disagree with itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from engine.audit_anchoring import ANCHOR_INTERVAL_S, AnchorKeeper
from engine.bootstrap import Container
from engine.oa_settings import load_oa_connections
from engine.persistence import schema
from engine.persistence.db_errors import problem
from engine.persistence.types import utcnow
from engine.services import oa_org_sync, outbox, processes
from engine.services.reconciliation import Reconciler, default_window
from engine.services.reservations import expire_left_overs
from engine.worker.loop import DatabaseUnusable

log = logging.getLogger("budgetflow.worker.jobs")
EXPIRY_INTERVAL_S = 3600.0  # hourly is plenty for a limit counted in days
EVERY_POLL = 0.0


@dataclass
class PeriodicJob:
    """``run`` returns how much work it did; a job that did some is run again without waiting for the poll."""

    name: str
    interval: float  # seconds between runs; EVERY_POLL: each pass of the loop
    run: Callable[[], int]
    next_at: float = 0.0  # monotonic time of the next run; 0: at once
    failures: int = 0  # unexpected errors in a row (loop.py backs the job off)
    last_error: str = ""


def periodic_jobs(container: Container, stop: threading.Event) -> list[PeriodicJob]:
    """The jobs in the order each pass runs them: outcomes of connector calls first, then what they start."""
    keeper = LoggingAnchorKeeper(container, "worker")
    jobs = [
        PeriodicJob("outbox", EVERY_POLL, OutboxRun(container, stop)),
        PeriodicJob("timers", EVERY_POLL, lambda: _timed("timers", "timer(s) fired", fire_timers(container))),
        PeriodicJob("expiry", EXPIRY_INTERVAL_S,
                    lambda: _timed("expiry", "left-over reservation(s) released", expire(container))),
        PeriodicJob("audit-anchor", ANCHOR_INTERVAL_S, keeper.run),
    ]
    callbacks = container.oa_callback_worker()
    if callbacks is not None:
        jobs.append(PeriodicJob("oa-callbacks", EVERY_POLL, callbacks.run))
    interval = container.settings.oa_sync_interval_seconds
    if interval > 0 and load_oa_connections(container.settings.instance_dir):  # SettingInvalid: does not start
        jobs.append(PeriodicJob("oa-sync", interval, lambda: sync_people(container)))
    return jobs + erp_jobs(container)


def erp_jobs(container: Container) -> list[PeriodicJob]:
    """Payment read-back and reconciliation, with a vendor ERP configured (SettingInvalid: does not start)."""
    if container.erp_connection().connector == "local":
        return []
    settings, jobs = container.settings, []
    if settings.payment_sync_interval_seconds > 0:
        payments = container.payment_sync()
        jobs.append(PeriodicJob("erp-payments", settings.payment_sync_interval_seconds,
                                lambda: _timed("erp-payments", "claim(s) marked paid", payments.run)))
    if settings.reconcile_interval_seconds > 0:
        reconciler = container.reconciler()
        jobs.append(PeriodicJob("erp-reconcile", settings.reconcile_interval_seconds,
                                lambda: _reconcile(reconciler)))
    return jobs


def _reconcile(reconciler: Reconciler) -> int:
    found = reconciler.run(*default_window(utcnow().date()))
    if found["differences"]:
        log.warning("erp-reconcile: %d difference(s) with %s; see the finance pages or budgetflow reconcile",
                    len(found["differences"]), found["erp"])
    return 0  # not "work done": the next run is a day away whatever it found


def sync_people(container: Container) -> int:
    """The org sync of every configured suite, one log line per suite; how many employees it changed."""
    connections = load_oa_connections(container.settings.instance_dir)
    report = oa_org_sync.sync_all(container.uow, connections, container.oa_tokens())
    for suite in report.suites:
        if not suite.ok:
            log.warning("oa-sync: %s: %s: %s (nothing of it was changed)", suite.vendor, suite.error_code,
                        suite.error)
        elif suite.changes or suite.reassignments or suite.not_placed:
            log.info("oa-sync: %s: %d change(s), %d task(s) handed on, %d person(s) not placed", suite.vendor,
                     len(suite.changes), len(suite.reassignments), len(suite.not_placed))
    return sum(len(suite.changes) for suite in report.suites)


class OutboxRun:
    """The outbox job: due connector jobs, one at a time. A job the database interrupted (an outage, which
    the loop waits out) gets its attempt back first thing after the outage, and runs again at once."""

    def __init__(self, container: Container, stop: threading.Event) -> None:
        self.container, self.stop = container, stop
        self.runner, self.policy = container.job_runner(), container.retry_policy()
        self.interrupted: outbox.JobInterrupted | None = None

    def __call__(self) -> int:
        uow = self.container.uow
        if self.interrupted is not None:
            given = outbox.give_back(uow, self.interrupted)
            log.info("%s: %s", self.interrupted, "attempt given back" if given else "it moved on meanwhile")
            self.interrupted = None
        try:
            return outbox.run_due(uow, self.runner, policy=self.policy, report=log_job_run, stop=self.stop.is_set)
        except outbox.JobInterrupted as interrupted:
            self.interrupted = interrupted
            raise


def fire_timers(container: Container) -> Callable[[], int]:
    return lambda: processes.fire_due_timers(container.uow, now=utcnow())


def expire(container: Container) -> Callable[[], int]:
    valid_days = container.settings.reservation_valid_days
    return lambda: expire_left_overs(container.uow, now=utcnow(), valid_days=valid_days)


def _timed(name: str, what: str, work: Callable[[], int]) -> int:
    """Run ``work``; one log line if it did anything (an idle poll says nothing)."""
    started = time.perf_counter()
    done = work()
    if done:
        log.info("%s: %d %s in %.0f ms", name, done, what, (time.perf_counter() - started) * 1000)
    return done


def log_job_run(ran: outbox.JobRun) -> None:
    """The one line per connector job an operator reads: operator, job id, outcome, time."""
    level = logging.INFO if ran.outcome in ("done", "retrying") else logging.WARNING
    log.log(level, "%s job %d: %s (attempt %d) in %.0f ms", ran.operator, ran.job_id, ran.outcome, ran.attempt,
            ran.ms)


def check_schema(container: Container) -> None:
    """Refuse to start on a database without budgetflow's tables or with an older schema (fatal: see loop.py)."""
    current, head = schema.current_revision(container.engine), schema.head_revision()
    if current == head:
        return
    url = container.settings.database_url
    if current is None:
        raise DatabaseUnusable(problem("no_schema", url=url))
    raise DatabaseUnusable(problem("schema_outdated", url=url, detail=f"at revision {current}, code at {head}"))


class LoggingAnchorKeeper(AnchorKeeper):
    """The audit anchor refresh of the worker, saying what it has to say through logging."""

    def run(self) -> int:
        self.refresh()
        return 0

    def _say(self, line: str) -> None:
        logging.getLogger("budgetflow.worker.audit").warning("%s: %s", self.name, line)
