"""Reservations a finished request left behind: a budget admin releases one, or the worker expires them.

A flow releases its own reservation when it is rejected or withdrawn and writes it off when
the claim is paid. What stays open is an approved application nobody claimed, or one whose
claim was rejected: it holds budget until it is given back. A budget admin may give it back
once the document's flow has ended, always with a reason; with ``reservation_valid_days`` set,
the worker does so for those left open that long. Both book under one key per reservation,
so a repeat (or the admin and the worker both) books nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.domain.errors import BudgetflowError, ReservationClosed, UnknownReservation
from engine.services import ledger
from engine.services.ledger import WriteOffResult
from engine.services.ports import UnitOfWork, UnitOfWorkFactory
from engine.services.steps import NotAllowed, record_refusal

ADMIN_ROLE = "budget_admin"
EXPIRY_ACTOR = "scheduler"


def release_left_over(uow_factory: UnitOfWorkFactory, *, reservation_id: int, by: str,
                      reason: str) -> WriteOffResult:
    """Close an open reservation whose document's flow has ended and give its remainder back to the line."""
    if not reason.strip():
        raise BudgetflowError("say why the reservation is released (--reason)")
    try:
        with uow_factory() as uow:
            if by not in uow.directory.with_roles(ADMIN_ROLE):
                raise NotAllowed(f"{by} is not a budget admin ({ADMIN_ROLE}); only budget admins release reservations")
            result = _release(uow, reservation_id, actor=by, reason=reason.strip())
            uow.commit()
    except NotAllowed as refused:
        record_refusal(uow_factory, user=by, subject=f"reservation {reservation_id}", reason=str(refused))
        raise
    return result


def expire_left_overs(uow_factory: UnitOfWorkFactory, *, now: datetime, valid_days: int) -> int:
    """Release what finished requests have held for ``valid_days`` or more (0: never); returns how many."""
    if valid_days <= 0:
        return 0
    with uow_factory() as uow:
        due = uow.claims.left_over_reservations(created_before=now - timedelta(days=valid_days))
    released = 0
    for reservation_id in due:  # one transaction each: one bad row must not hold back the rest
        with uow_factory() as uow:
            try:
                result = _release(uow, reservation_id, actor=EXPIRY_ACTOR,
                                  reason=f"expired: still open {valid_days} days after it was made")
            except (ReservationClosed, NotAllowed):
                continue  # closed, or taken up by a flow, since the list was read
            uow.commit()
        released += int(not result.replayed)
    return released


def _release(uow: UnitOfWork, reservation_id: int, *, actor: str, reason: str) -> WriteOffResult:
    document = uow.claims.reservation_document(reservation_id)
    if document is None:
        raise UnknownReservation(f"reservation {reservation_id} does not exist")
    status = uow.instances.status_of(document)
    if status not in (None, "complete"):
        raise NotAllowed(f"{document} is still in progress ({status}) and counts on reservation "
                         f"{reservation_id}; its flow releases it when rejected or withdrawn")
    claim = uow.instances.running_on(document)
    if claim is not None:
        raise NotAllowed(f"{claim} is in progress against {document} and counts on reservation {reservation_id}")
    result = ledger.release_in(uow.ledger, reservation_id=reservation_id, key=f"left-over:{reservation_id}",
                               document=document, reason=f"released by {actor}: {reason[:400]}")
    if not result.replayed:  # a repeat (or a second worker) booked nothing, so there is nothing to record
        uow.record(actor=actor, action="reservation.released", subject_type="reservation",
                   subject_id=str(reservation_id), payload={"document": document, "released": result.released,
                                                            "reason": reason[:500]})
    return result
