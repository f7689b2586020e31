"""Reservations a budget admin looks after: releasing what a finished request left behind.

A flow releases its own reservation when it is rejected or withdrawn and writes it off when
the claim is paid. What stays open is an approved application nobody claimed, or one whose
claim was rejected: it holds budget until someone gives it back. Only a budget admin may,
only once the document's flow has ended (a running flow still counts on its reservation),
and always with a reason; the release is booked under one key per reservation, so a repeated
command books nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.domain.errors import BudgetflowError, UnknownReservation
from engine.services import ledger
from engine.services.ledger import WriteOffResult
from engine.services.processes import NotAllowed, record_refusal

ADMIN_ROLE = "budget_admin"


def release_left_over(uow_factory: Callable[[], Any], *, reservation_id: int, by: str,
                      reason: str) -> WriteOffResult:
    """Close an open reservation whose document's flow has ended and give its remainder back to the line."""
    if not reason.strip():
        raise BudgetflowError("say why the reservation is released (--reason)")
    try:
        with uow_factory() as uow:
            if by not in uow.directory.with_roles(ADMIN_ROLE):
                raise NotAllowed(f"{by} is not a budget admin ({ADMIN_ROLE}); only budget admins release reservations")
            document = uow.claims.reservation_document(reservation_id)
            if document is None:
                raise UnknownReservation(f"reservation {reservation_id} does not exist")
            status = uow.instances.status_of(document)
            if status not in (None, "complete"):
                raise NotAllowed(f"{document} is still in progress ({status}) and counts on reservation "
                                 f"{reservation_id}; its flow releases it when rejected or withdrawn")
            result = ledger.release_in(uow.ledger, reservation_id=reservation_id, key=f"admin-release:{reservation_id}",
                                       document=document, reason=f"released by {by}: {reason.strip()[:400]}")
            uow.record(actor=by, action="reservation.released", subject_type="reservation",
                       subject_id=str(reservation_id), payload={"document": document, "released": result.released,
                                                                "reason": reason.strip()[:500]})
            uow.commit()
    except NotAllowed as refused:
        record_refusal(uow_factory, user=by, subject=f"reservation {reservation_id}", reason=str(refused))
        raise
    return result
