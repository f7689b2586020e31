"""The worker's one loop: run each periodic job when due, wait out database outages, never die of them.

Why a plain poll loop and not APScheduler's BlockingScheduler (which the ``scheduler`` command used):
every job here needs the same database, so an outage is the loop's business, not each job's. One
thread that notices the outage once, stops *all* jobs, backs off and notices the recovery once is
simple to get right; a scheduler's thread pool would run (and log the failure of) each job on its
own trigger all through the outage. The loop also stops between two jobs on SIGTERM, runs a job
again at once while it finds work, and needs no job store.

What a failure does:

- a transient database problem (db_errors: connection lost, server unreachable, lock held past the
  busy timeout, I/O error, disk full, read-only): one log line, then retries with capped exponential
  back-off (0.5 s doubling to 30 s, jittered) until the database answers, then one line saying how
  long it was gone; the connection pool is rebuilt on the way;
- a configuration problem (bad URL, missing driver, no schema or an old one): DatabaseUnusable is
  raised, for the command line to print as one line (exit 2);
- anything else (a bug, a database error that is no outage): that job is logged with its traceback
  (once while it keeps failing the same way) and backed off on its own; the other jobs go on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from engine.domain.errors import BudgetflowError
from engine.persistence.db_errors import DatabaseProblem, classify
from engine.worker.backoff import BASE_S, CAP_S, Backoff, Outage

if TYPE_CHECKING:
    from engine.worker.jobs import PeriodicJob

log = logging.getLogger("budgetflow.worker")
NO_POOL_RESET = frozenset({"locked"})  # a lock held elsewhere says nothing about our connections


class DatabaseUnusable(BudgetflowError):
    """The database cannot be used as configured (or, with ``--once``, not now); ``problem`` says why."""

    code = "DATABASE_UNUSABLE"

    def __init__(self, problem: DatabaseProblem) -> None:
        super().__init__(problem.message, kind=problem.kind)
        self.problem = problem


class Loop:
    def __init__(self, jobs: Sequence[PeriodicJob], *, url: str, stop: threading.Event, poll: float = 1.0,
                 first: Callable[[], None] = lambda: None, reset_pool: Callable[[], None] = lambda: None,
                 backoff: Backoff | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        """``first`` runs before any job (the schema check): it must succeed, outages are waited out."""
        self.jobs, self.url, self.stop, self.poll, self.first = list(jobs), url, stop, poll, first
        self.reset_pool, self.clock = reset_pool, clock
        self.backoff = backoff or Backoff()
        self.outage = Outage(log, cap=self.backoff.cap, clock=clock)

    def run_once(self) -> dict[str, int]:
        """``first`` and every job once, now; a database problem is raised as DatabaseUnusable (no waiting)."""
        done = {}
        for name, work in [("first", lambda: self.first() or 0), *((j.name, j.run) for j in self.jobs)]:
            try:
                done[name] = work()
            except Exception as exc:
                found = classify(exc, url=self.url)
                if found is None or found.kind == "other":
                    raise
                raise DatabaseUnusable(found) from exc
        del done["first"]
        return done

    def run_forever(self) -> None:
        """``first``, then passes over the jobs until ``stop``; sleeps ``poll`` s after a pass that found nothing."""
        if not self._first_succeeds():
            return
        while not self.stop.is_set():
            if not self.run_pass():
                self.stop.wait(self.poll)

    def _first_succeeds(self) -> bool:
        while not self.stop.is_set():
            try:
                self.first()
            except Exception as exc:
                if self._wait_out(exc):
                    continue
                raise
            self.outage.recovered()
            self.backoff.reset()
            return True
        return False

    def run_pass(self) -> bool:
        """Run every due job once; True if any did work (or an outage was waited out): pass again at once."""
        busy = False
        for job in self.jobs:
            if self.stop.is_set():
                break
            if self.clock() < job.next_at:
                continue
            try:
                busy = job.run() > 0 or busy
            except Exception as exc:  # noqa: BLE001 - sorted below: outage, configuration, or this job's bug
                if self._wait_out(exc):
                    return True
                self._job_failed(job, exc)
                continue
            # The outbox job runs first in every pass and always reads the database: its success is the recovery.
            self.outage.recovered()
            self.backoff.reset()
            self._job_ok(job)
        return busy

    def _wait_out(self, exc: Exception) -> bool:
        """A transient database problem: log it (once), back off, True. Raise a fatal one; False for the rest."""
        found = classify(exc, url=self.url)
        if found is None or found.kind == "other":
            return False
        if not found.transient:
            raise DatabaseUnusable(found) from exc
        delay = self.backoff.next_delay()
        self.outage.failed(found, delay)
        if found.kind not in NO_POOL_RESET:
            self.reset_pool()  # pooled connections to a server that went away are dead: open new ones
        self.stop.wait(delay)
        return True

    def _job_failed(self, job: PeriodicJob, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        job.failures += 1
        delay = min(CAP_S, BASE_S * 2 ** min(job.failures - 1, 32))
        job.next_at = self.clock() + delay
        if text != job.last_error:
            log.exception("job %s failed (it runs again in %.1f s; other jobs go on): %s", job.name, delay, text)
            job.last_error = text

    def _job_ok(self, job: PeriodicJob) -> None:
        if job.failures:
            log.warning("job %s works again after %d failure(s)", job.name, job.failures)
            job.failures, job.last_error = 0, ""
        job.next_at = self.clock() + job.interval
