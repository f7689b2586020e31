"""The outbox worker: run due connector jobs, resume their instances, retry, raise incidents.

At least once, never twice: a job is leased, executed with its idempotency key
(instance id + task guid), and its outcome is committed with the instance's
next step in one transaction. A worker killed in between leaves the lease to
expire; the next attempt reuses the key, so the ERP returns the first voucher.

If the instance's step fails on a job's outcome (a script error after the voucher was
posted, say), the outcome is still kept (the job is done, or an incident) and the
instance goes into ``incident``; the worker goes on with the next job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from connectors.base import ConnectorError
from connectors.registry import spec
from engine.persistence.types import utcnow
from engine.services.ports import JobRecord, UnitOfWork, UnitOfWorkFactory
from engine.services.steps import advance_and_save, load_run, record_failure
from engine.workflow.errors import StepFailed

log = logging.getLogger(__name__)

Outcome = tuple[JobRecord, dict[str, Any]]  # a job and what its connector returned


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=10)
    lease: timedelta = timedelta(seconds=60)

    def next_attempt(self, now: datetime, attempts: int) -> datetime:
        return now + min(self.base * (2 ** (attempts - 1)), self.cap)


class JobRunner(Protocol):
    def run(self, operator: str, params: dict[str, Any], *, key: str) -> dict[str, Any]:
        """Execute one connector call; raise ConnectorError (retryable or not) on failure."""


def run_due(uow_factory: UnitOfWorkFactory, runner: JobRunner, *, policy: RetryPolicy = RetryPolicy(),
            now: datetime | None = None, limit: int = 100) -> int:
    """Run up to ``limit`` due jobs, one at a time; returns how many ran.

    A job's success is committed in the same transaction that leases the next job: one
    transaction per job, not two. Only the job about to run is leased (and counted as an
    attempt), so a worker that dies costs no other job an attempt or its back-off.
    """
    ran, succeeded = 0, None
    while True:
        job = _settle_and_claim(uow_factory, succeeded, policy=policy, now=now or utcnow(), claim=ran < limit)
        if job is None:
            return ran
        succeeded = _run(uow_factory, runner, job, policy=policy, now=now or utcnow())
        ran += 1


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


def _run(uow_factory: UnitOfWorkFactory, runner: JobRunner, job: JobRecord, *, policy: RetryPolicy,
         now: datetime) -> Outcome | None:
    """Call the connector; a failure is recorded at once, a success is returned for the caller to record."""
    try:
        return job, runner.run(job.operator, job.params, key=job.key)
    except ConnectorError as error:
        _failed(uow_factory, job, error, policy=policy, now=now)
    except Exception as error:  # noqa: BLE001 - an unexpected failure is retried, then an incident
        log.exception("outbox job %s (%s) failed unexpectedly", job.id, job.operator)
        wrapped = ConnectorError("CONNECTOR_CRASHED", f"{type(error).__name__}: {error}", retryable=True)
        _failed(uow_factory, job, wrapped, policy=policy, now=now)
    return None


def _settle_and_claim(uow_factory: UnitOfWorkFactory, succeeded: Outcome | None, *, policy: RetryPolicy,
                      now: datetime, claim: bool) -> JobRecord | None:
    """Record ``succeeded`` (resuming the instance that waits for it), then lease the next due job."""
    if succeeded is None and not claim:
        return None
    try:
        with uow_factory() as uow:
            if succeeded is not None:
                _record_success(uow, *succeeded)
            jobs = uow.outbox.claim_due(now, lease=policy.lease, limit=1) if claim else []
            uow.commit()
    except StepFailed as failed:
        assert succeeded is not None  # only resuming an instance runs a step
        _keep_outcome(uow_factory, succeeded[0], failed, status="done", result=succeeded[1])
        return _settle_and_claim(uow_factory, None, policy=policy, now=now, claim=claim)
    return jobs[0] if jobs else None


def _keep_outcome(uow_factory: UnitOfWorkFactory, job: JobRecord, failed: StepFailed, *, status: str,
                  result: dict[str, Any] | None = None, error: str = "") -> None:
    """The instance's step failed on this job's outcome: keep the outcome, put the instance in incident."""
    with uow_factory() as uow:
        if status == "done":
            uow.outbox.done(job.id, result or {})
        else:
            uow.outbox.close(job.id, status=status, error=f"{error}; the instance's step failed: {failed}")
        _audit(uow, job, f"connector.{'succeeded' if status == 'done' else status}",
               {"step_failed": str(failed)[:500]})
        uow.commit()
    record_failure(uow_factory, failed, actor="worker", stop_timers=True)


def _record_success(uow: UnitOfWork, job: JobRecord, result: dict[str, Any]) -> None:
    if _flow_waits(job.operator):
        row, run = load_run(uow, job.instance_id)
        if run.waits_for_service(job.task_guid):
            run.finish_service_task(job.task_guid, result)
            advance_and_save(uow, row, run)
    uow.outbox.done(job.id, result)
    _audit(uow, job, "connector.succeeded", {k: str(v)[:200] for k, v in result.items()})


def _failed(uow_factory: UnitOfWorkFactory, job: JobRecord, error: ConnectorError, *, policy: RetryPolicy,
            now: datetime) -> None:
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


def _audit(uow: UnitOfWork, job: JobRecord, action: str, payload: dict[str, Any]) -> None:
    uow.record(actor="worker", action=action, subject_type="outbox_job", subject_id=job.key,
               payload={"operator": job.operator, **payload})


def _flow_waits(operator: str) -> bool:
    found = spec(operator)
    return found is None or found.waits


def _to_diagram(uow: UnitOfWork, job: JobRecord, error: ConnectorError, message: str) -> str:
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
