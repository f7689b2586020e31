"""The outbox worker: run due connector jobs, resume their instances, retry, raise incidents.

At least once, never twice: a job is leased, executed with its idempotency key
(instance id + task guid), and its outcome is committed with the instance's
next step in one transaction. A worker killed in between leaves the lease to
expire; the next attempt reuses the key, so the ERP returns the first voucher.

An attempt is counted when a job is leased, not when it fails: a job whose execution kills
the worker (it never gets to raise) still reaches ``max_attempts``. Once its last lease runs
out it is not leased again but becomes an incident, "worker died while running it".

If the instance's step fails on a job's outcome (a script error after the voucher was
posted, say), the outcome is still kept (the job is done, or an incident) and the
instance goes into ``incident``; the worker goes on with the next job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from connectors.base import ConnectorError
from connectors.registry import spec
from engine.persistence.db_errors import is_transient, short_text
from engine.persistence.types import utcnow
from engine.services.ports import UnitOfWork, UnitOfWorkFactory
from engine.services.steps import advance_and_save, load_run, record_failure, step_text
from engine.workflow.errors import StepFailed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Completed:
    """A job's result, and what the job writes with its success: ``write`` runs in the unit of work that marks
    the job done and resumes its instance, so both commit together or not at all (then the job's retry, which
    finds its work done in the other system, writes it). A runner may return the plain result instead."""

    result: dict[str, Any]
    write: Callable[[UnitOfWork], None] | None = None


Outcome = tuple[Any, Completed, float]  # a job, what its connector returned, when it started (perf_counter)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=10)
    lease: timedelta = timedelta(seconds=60)

    def next_attempt(self, now: datetime, attempts: int) -> datetime:
        return now + min(self.base * (2 ** (attempts - 1)), self.cap)


@dataclass(frozen=True)
class JobRun:
    """One job's run once its outcome is committed: what the worker logs."""

    job_id: int
    operator: str
    outcome: str  # done, retrying, failed (handed to the diagram), incident, worker died
    attempt: int
    ms: float  # from lease to committed outcome; 0 for a job found abandoned


Report = Callable[[JobRun], None]


class JobRunner(Protocol):
    def run(self, operator: str, params: dict[str, Any], *, key: str, attempt: int = 1
            ) -> dict[str, Any] | Completed:
        """Execute one connector call; raise ConnectorError (retryable or not) on failure. ``attempt`` counts
        from 1: a later attempt may follow one that reached the other system and lost its answer."""


def worker_died(attempts: int) -> str:
    """The incident of a job whose last attempt's lease ran out: it may be what kills the worker."""
    return f"worker died while running it (after {attempts} attempts)"


def run_due(uow_factory: UnitOfWorkFactory, runner: JobRunner, *, policy: RetryPolicy = RetryPolicy(),
            now: datetime | None = None, limit: int = 100, report: Report | None = None,
            stop: Callable[[], bool] | None = None, resume_at: datetime | None = None) -> int:
    """Run up to ``limit`` due jobs, one at a time, until none is due or ``stop()``; returns how many ran.

    ``resume_at``: the engine's time for the instances a finished job resumes (a simulation's virtual
    clock, so timers they start are due from it); jobs are still due by ``now``. Default: the real clock.

    A job's success is committed in the same transaction that leases the next job: one
    transaction per job, not two. Only the job about to run is leased (and counted as an
    attempt), so a worker that dies costs no other job an attempt or its back-off.
    ``report`` hears of every job once its outcome is committed.
    """
    ran, succeeded, leased, answered = 0, None, None, False
    while True:
        claim = ran < limit and not (stop is not None and stop())
        try:
            leased = _settle_and_claim(uow_factory, succeeded, policy=policy, now=now or utcnow(), claim=claim,
                                       report=report, resume_at=resume_at)
            answered = False
            if leased is None:
                return ran
            started = time.perf_counter()
            answer = _call(runner, leased)
            answered = True  # until its outcome commits, the other system may hold what this attempt did
            succeeded = _outcome(uow_factory, leased, answer, started, policy=policy, now=now or utcnow(),
                                 report=report)
        except Exception as exc:
            if leased is not None and is_transient(exc):
                raise JobInterrupted(leased.id, leased.operator, leased.attempts, answered=answered) from exc
            raise
        ran += 1


class JobInterrupted(Exception):
    """The database went away while this worker held a job's lease (its cause says how): once the database is
    back, ``give_back`` returns the lease at once, so outages never add up to "worker died".

    ``answered``: the connector had answered (its outcome was being recorded). The other system may then hold
    what the attempt did (a posted voucher), so the attempt is kept: the job's next run is a later attempt,
    which looks its key up before posting again (``resolve_first``)."""

    def __init__(self, job_id: int, operator: str, attempts: int, *, answered: bool = False) -> None:
        super().__init__(f"{operator} job {job_id} interrupted by the database (attempt {attempts}"
                         f"{', after its connector answered' if answered else ''})")
        self.job_id, self.operator, self.attempts, self.answered = job_id, operator, attempts, answered


def give_back(uow_factory: UnitOfWorkFactory, interrupted: JobInterrupted) -> bool:
    """Undo the lease of an interrupted job, and its attempt unless its connector had answered (not if the job
    moved on meanwhile): it runs again now."""
    with uow_factory() as uow:
        given = uow.outbox.give_back(interrupted.job_id, interrupted.attempts, keep_attempt=interrupted.answered)
        uow.commit()
    return bool(given)


def run_one(uow_factory: UnitOfWorkFactory, runner: JobRunner, *, policy: RetryPolicy,
            now: datetime | None = None) -> bool:
    """Run the next due job, if there is one."""
    job = _settle_and_claim(uow_factory, None, policy=policy, now=now or utcnow(), claim=True)
    if job is None:
        return False
    succeeded = _run(uow_factory, runner, job, policy=policy, now=now or utcnow())
    if succeeded is not None:
        _settle_and_claim(uow_factory, succeeded, policy=policy, now=now or utcnow(), claim=False)
    return True


def _run(uow_factory: UnitOfWorkFactory, runner: JobRunner, job: Any, *, policy: RetryPolicy,
         now: datetime, report: Report | None = None) -> Outcome | None:
    """Call the connector; a failure is recorded at once, a success is returned for the caller to record."""
    started = time.perf_counter()
    return _outcome(uow_factory, job, _call(runner, job), started, policy=policy, now=now, report=report)


def _call(runner: JobRunner, job: Any) -> Completed | ConnectorError:
    """The connector's answer: its result, or the error it failed with (an unexpected one as CONNECTOR_CRASHED).

    Our own database going away under the connector is raised: the worker waits it out, and the job's lease
    runs out (or is given back): it runs again (same key) once the database is back."""
    try:
        answer = runner.run(job.operator, job.params, key=job.key, attempt=job.attempts)
    except ConnectorError as error:
        return error
    except Exception as error:  # noqa: BLE001 - an unexpected failure is retried, then an incident
        if is_transient(error):
            raise
        log.exception("outbox job %s (%s) failed unexpectedly", job.id, job.operator)
        return ConnectorError("CONNECTOR_CRASHED", short_text(error), retryable=True)
    return answer if isinstance(answer, Completed) else Completed(answer)


def _outcome(uow_factory: UnitOfWorkFactory, job: Any, answer: Completed | ConnectorError, started: float, *,
             policy: RetryPolicy, now: datetime, report: Report | None = None) -> Outcome | None:
    """A success, returned for the caller to record with the next lease; a failure, recorded now."""
    if isinstance(answer, Completed):
        return job, answer, started
    _tell(report, job, _failed(uow_factory, job, answer, policy=policy, now=now), started)
    return None


def _settle_and_claim(uow_factory: UnitOfWorkFactory, succeeded: Outcome | None, *, policy: RetryPolicy,
                      now: datetime, claim: bool, report: Report | None = None,
                      resume_at: datetime | None = None) -> Any:
    """Record ``succeeded`` (resuming the instance that waits for it), then lease the next due job.

    Jobs found abandoned on the way (their last attempt's lease ran out) are closed as incidents.
    """
    if succeeded is None and not claim:
        return None
    found = None
    try:
        with uow_factory() as uow:
            if succeeded is not None:
                _record_success(uow, succeeded[0], succeeded[1], resume_at)
            found = uow.outbox.claim_due(now, lease=policy.lease, limit=1, max_attempts=policy.max_attempts) \
                if claim else None
            for job in found.abandoned if found else []:
                uow.outbox.close(job.id, status="incident", error=worker_died(job.attempts))
                _audit(uow, job, "connector.incident", {"error": worker_died(job.attempts), "attempt": job.attempts})
            uow.commit()
    except StepFailed as failed:
        assert succeeded is not None  # only resuming an instance runs a step
        _keep_outcome(uow_factory, succeeded[0], failed, status="done", completed=succeeded[1])
        _tell(report, succeeded[0], "done", succeeded[2])
        return _settle_and_claim(uow_factory, None, policy=policy, now=now, claim=claim, report=report)
    if succeeded is not None:
        _tell(report, succeeded[0], "done", succeeded[2])
    for job in found.abandoned if found else []:
        _tell(report, job, "worker died", None)
    if found is not None and found.abandoned and not found.jobs:  # look further: more may be due behind them
        return _settle_and_claim(uow_factory, None, policy=policy, now=now, claim=claim, report=report)
    return found.jobs[0] if found and found.jobs else None


def _tell(report: Report | None, job: Any, outcome: str, started: float | None) -> None:
    if report is not None:
        ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        report(JobRun(job.id, job.operator, outcome, job.attempts, round(ms, 1)))


def _keep_outcome(uow_factory: UnitOfWorkFactory, job: Any, failed: StepFailed, *, status: str,
                  completed: Completed | None = None, error: str = "") -> None:
    """The instance's step failed on this job's outcome: keep the outcome, put the instance in incident."""
    with uow_factory() as uow:
        if completed is not None:  # done: what the job writes went with the rolled-back step; write it here
            _write(uow, completed)
            uow.outbox.done(job.id, completed.result)
        else:
            uow.outbox.close(job.id, status=status, error=f"{error}; the instance's step failed: {step_text(failed)}")
        _audit(uow, job, f"connector.{'succeeded' if status == 'done' else status}",
               {"step_failed": step_text(failed)})
        uow.commit()
    record_failure(uow_factory, failed, actor="worker", stop_timers=True)


def _record_success(uow: Any, job: Any, completed: Completed, resume_at: datetime | None = None) -> None:
    _write(uow, completed)
    result = completed.result
    if _flow_waits(job.operator):
        row, run = load_run(uow, job.instance_id)
        if run.waits_for_service(job.task_guid):
            run.finish_service_task(job.task_guid, result)
            with run.at(resume_at) if resume_at is not None else nullcontext():
                advance_and_save(uow, row, run)
    uow.outbox.done(job.id, result)
    _audit(uow, job, "connector.succeeded", {k: str(v)[:200] for k, v in result.items()})


def _write(uow: Any, completed: Completed) -> None:
    if completed.write is not None:
        completed.write(uow)


def _failed(uow_factory: UnitOfWorkFactory, job: Any, error: ConnectorError, *, policy: RetryPolicy,
            now: datetime) -> str:
    """Record a failed attempt; returns what became of the job (retrying, failed, incident)."""
    message = f"{error.code}: {error}"
    try:
        with uow_factory() as uow:
            if error.retryable and job.attempts < policy.max_attempts:
                uow.outbox.retry_later(job.id, at=policy.next_attempt(now, job.attempts), error=message)
                action = "connector.retrying"
            elif error.retryable:
                uow.outbox.close(job.id, status="incident", error=f"after {job.attempts} attempts: {message}")
                action = "connector.incident"
            else:
                action = _to_diagram(uow, job, error, message)
            _audit(uow, job, action, {"error": message[:500], "attempt": job.attempts})
            uow.commit()
    except StepFailed as failed:
        _keep_outcome(uow_factory, job, failed, status="incident", error=message)
        return "incident"
    return action.removeprefix("connector.")


def _audit(uow: Any, job: Any, action: str, payload: dict[str, Any]) -> None:
    uow.record(actor="worker", action=action, subject_type="outbox_job", subject_id=job.key,
               payload={"operator": job.operator, **payload})


def _flow_waits(operator: str) -> bool:
    found = spec(operator)
    return found is None or found.waits


def _to_diagram(uow: Any, job: Any, error: ConnectorError, message: str) -> str:
    if not _flow_waits(job.operator):  # nobody waits for it in the diagram: an incident, not a BPMN error
        uow.outbox.close(job.id, status="incident", error=message)
        return "connector.incident"
    row, run = load_run(uow, job.instance_id)
    if not run.waits_for_service(job.task_guid):
        uow.outbox.close(job.id, status="failed", error=message)
        return "connector.failed"
    try:
        run.fail_service_task(job.task_guid, error)
    except StepFailed as failed:
        if not isinstance(failed.__cause__, ConnectorError):
            raise
        # No boundary event catches this code: someone must look at it.
        uow.outbox.close(job.id, status="incident", error=f"not handled by the diagram: {message}")
        return "connector.incident"
    advance_and_save(uow, row, run)
    uow.outbox.close(job.id, status="failed", error=message)
    return "connector.failed"
