"""Stuck or unwanted instances: cancel one (admin, or the applicant while it is pending), retry an incident.

Cancelling gives back what the document holds through the ledger (one release per open
reservation, keyed so a repeat books nothing), frees its invoices, closes its tasks and its
pending jobs, and ends the instance (status ``complete``, outcome ``cancelled``). It works on
an instance whose saved state cannot even be loaded (a poisoned one): the state is then kept
as it was. A document whose budget was already written off (its voucher queued or posted)
cannot be cancelled: its flow must finish.
"""

from __future__ import annotations

from engine.services import ledger
from engine.services.ports import InstanceRecord, UnitOfWork, UnitOfWorkFactory
from engine.services.steps import NotAllowed, Outcome, advance_and_save, audited, is_admin, load_run
from engine.workflow.errors import StepFailed

POSTING = "erp/PostVoucher"


def cancel(uow_factory: UnitOfWorkFactory, *, instance_id: int, by: str, reason: str) -> Outcome:
    """End a document's flow and give back its reservations; audited with ``reason``."""
    with audited(uow_factory, actor=by, subject=f"cancel instance {instance_id}"), uow_factory() as uow:
        if not reason.strip():
            raise NotAllowed("say why the document is cancelled (--reason)")
        row = uow.instances.lock(instance_id)
        _may_cancel(uow, row, by)
        released = [ledger.release_in(uow.ledger, reservation_id=rid, key=f"cancel:{rid}", document=row.business_key,
                                      reason=f"cancelled by {by}: {reason.strip()[:300]}").to_json()
                    for rid in uow.claims.open_reservations_of(row.business_key)]
        uow.claims.release_invoices(row.business_key)
        jobs = uow.outbox.cancel_pending(instance_id)
        state = _cancelled_state(uow, row)
        uow.instances.sync_inbox(instance_id, [])
        uow.instances.save(row, state=state, status="complete", outcome="cancelled", next_timer_at=None)
        uow.record(actor=by, action="process.cancelled", subject_type="process_instance", subject_id=row.business_key,
                   payload={"reason": reason.strip()[:500], "released": released, "jobs_cancelled": jobs,
                            "was": row.status})
        uow.commit()
    return Outcome(instance_id, "complete", "cancelled", [])


def _may_cancel(uow: UnitOfWork, row: InstanceRecord, by: str) -> None:
    if row.status == "complete":
        raise NotAllowed(f"{row.business_key} has already finished")
    if not is_admin(uow, by) and not (by == row.applicant and uow.directory.is_active(by)):
        raise NotAllowed(f"{by} may not cancel {row.business_key}: only its applicant (while it is pending) "
                         "or an admin may")
    claim = uow.instances.running_on(row.business_key)
    if claim is not None:
        raise NotAllowed(f"claim {claim} is in progress against {row.business_key}; cancel or finish it first")
    if uow.outbox.has_job(row.id, POSTING):
        raise NotAllowed(f"{row.business_key} has been written off and its voucher queued or posted; "
                         "it cannot be cancelled, only finished (fix the posting)")


def _cancelled_state(uow: UnitOfWork, row: InstanceRecord) -> str:
    """The state with every task cancelled; a state that cannot be loaded is kept as it is."""
    try:
        _row, run = load_run(uow, row.id)
        run.cancel()
        return run.dump()
    except StepFailed:
        return str(row.state)


def retry(uow_factory: UnitOfWorkFactory, *, instance_id: int, by: str) -> Outcome:
    """Run an instance in ``incident`` again after a fix: results its jobs left are handed back, then the step."""
    with audited(uow_factory, actor=by, subject=f"retry instance {instance_id}", stop_timers=True), \
            uow_factory() as uow:
        if not is_admin(uow, by):
            raise NotAllowed(f"{by} is not an admin; only admins retry failed instances")
        row, run = load_run(uow, instance_id)
        if row.status != "incident":
            raise NotAllowed(f"{row.business_key} is not in incident ({row.status})")
        for task_guid, result in uow.outbox.results_of(instance_id):
            if run.waits_for_service(task_guid):
                run.finish_service_task(task_guid, result)
        outcome = advance_and_save(uow, row, run)
        uow.record(actor=by, action="incident.retried", subject_type="process_instance", subject_id=row.business_key,
                   payload={"status": outcome.status})
        uow.commit()
    return outcome


def retry_job(uow_factory: UnitOfWorkFactory, *, job_id: int, by: str) -> None:
    """Put a connector job that gave up (an incident) back in the queue, attempts reset; audited."""
    with audited(uow_factory, actor=by, subject=f"retry job {job_id}"), uow_factory() as uow:
        if not uow.outbox.retry_incident(job_id):
            raise NotAllowed(f"job {job_id} is not an open incident (budgetflow incidents list shows them)")
        uow.record(actor=by, action="incident.retried", subject_type="outbox_job", subject_id=str(job_id))
        uow.commit()
