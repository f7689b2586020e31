"""The engine-side operators: budget and invoice checks, run inside the instance's transaction.

Idempotency key of every call: instance id + task guid (the Temporal/Camunda rule,
reliability.md §1), so a step re-run after a crash books nothing twice.
Operators that reach other systems are not run here: they go to the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.base import ConnectorError
from connectors.registry import spec
from engine.domain import budget
from engine.domain.budget import ReservationStatus
from engine.domain.budget_line import BudgetLineKey
from engine.domain.errors import BudgetInsufficient, ReservationClosed, UnknownReservation
from engine.domain.money import Money
from engine.services import ledger
from engine.workflow.ports import OperatorCall

Handler = Callable[[Any, OperatorCall, str], dict[str, Any]]


class InstanceOperators:
    """The OperatorPort for one instance's engine pass."""

    def __init__(self, uow: Any, instance_id: int) -> None:
        self.uow = uow
        self.instance_id = instance_id

    def call(self, call: OperatorCall) -> dict[str, Any] | None:
        key = f"{self.instance_id}:{call.task_guid}"
        operator = spec(call.operator)
        if operator is None:
            raise ConnectorError("UNKNOWN_OPERATOR", f"{call.bpmn_id}: no operator {call.operator!r}")
        if operator.runs_in == "outbox":
            self.uow.instances.enqueue(instance_id=self.instance_id, task_guid=call.task_guid,
                                       operator=call.operator, params=call.params, key=key)
            # A notification does not hold the request up: it is queued durably and the flow moves on.
            return None if operator.waits else {"queued": True}
        try:
            return HANDLERS[call.operator](self.uow, call, key)
        except (BudgetInsufficient, ReservationClosed, UnknownReservation) as exc:
            # All mean "this money is not there for this claim": the diagram's budget boundary handles them.
            details = {k: str(v) for k, v in exc.details.items()}
            raise ConnectorError("BUDGET_INSUFFICIENT", str(exc), **details) from exc


def _money(p: dict[str, Any]) -> Money:
    return Money.of(p["amount"], p.get("currency") or "CNY")


def _reserve(uow: Any, call: OperatorCall, key: str) -> dict[str, Any]:
    p = call.params
    line_key = BudgetLineKey(period=str(p["period"]), org_unit=p["org_unit"], subject=p["subject"])
    line_id = uow.claims.line_id(line_key)
    if line_id is None:
        raise BudgetInsufficient(f"there is no budget line {line_key.label} for this request")
    result = ledger.reserve_in(uow.ledger, line_id=line_id, amount=_money(p), key=key, document=p["document_no"])
    return result.to_json()


def _check_overrun(uow: Any, call: OperatorCall, key: str) -> dict[str, Any]:
    p = call.params
    reservation_id = int(p["reservation_id"])
    _require_own_application(uow, call, reservation_id)
    line = uow.ledger.lock_line(uow.ledger.line_of_reservation(reservation_id))
    reservation = uow.ledger.reservation(reservation_id)
    if reservation.status is not ReservationStatus.OPEN:
        raise ReservationClosed(f"the application's reservation {reservation_id} is already closed (used by an "
                                "earlier claim, or released); claim it as a standalone expense instead")
    remaining = reservation.remaining
    excess = _money(p).amount - remaining
    if excess <= 0:
        return {"overrun": False, "excess": "0", "within_tolerance": True}
    over_budget = budget.check_spend(line, excess, what=f"claim {p['document_no']} beyond its reservation")
    return {"overrun": True, "excess": str(excess), "within_tolerance": True, "over_budget": over_budget}


def _require_own_application(uow: Any, call: OperatorCall, reservation_id: int) -> None:
    """A claim may only draw on the reservation of an application it names and that its applicant made."""
    application = call.data.get("application_no")
    document = uow.claims.reservation_document(reservation_id)
    if document is None:
        raise UnknownReservation(f"reservation {reservation_id} does not exist")
    owner = uow.instances.applicant_of(document)
    if document != application or owner != call.data.get("applicant"):
        raise UnknownReservation(f"reservation {reservation_id} belongs to {document}, not to application "
                                 f"{application} of {call.data.get('applicant')}")


def _write_off(uow: Any, call: OperatorCall, key: str) -> dict[str, Any]:
    p = call.params
    result = ledger.write_off_in(uow.ledger, reservation_id=int(p["reservation_id"]), amount=_money(p), key=key,
                                 document=p["document_no"], close=bool(p.get("close", True)))
    return result.to_json()


def _release(uow: Any, call: OperatorCall, key: str) -> dict[str, Any]:
    p = call.params
    if p.get("reservation_id") in (None, ""):
        return {"released": "0", "note": "nothing was reserved"}
    try:
        result = ledger.release_in(uow.ledger, reservation_id=int(p["reservation_id"]), key=key,
                                   document=p["document_no"], reason=str(p.get("reason") or ""))
    except ReservationClosed:
        return {"released": "0", "note": "the reservation was already closed"}
    return result.to_json()


def _check_invoices(uow: Any, call: OperatorCall, key: str) -> dict[str, Any]:
    document = call.params["document_no"]
    uow.claims.release_invoices(document)  # a resubmission may have changed them: claim the current set afresh
    seen: set[tuple[str, str]] = set()
    for line in call.params.get("lines") or []:
        invoice = (str(line.get("invoice_code", "")).strip(), str(line.get("invoice_number", "")).strip())
        if not invoice[1]:
            continue
        earlier = uow.claims.claimed_by(*invoice)
        if invoice in seen or (earlier and earlier != document):
            where = f"claim {earlier}" if earlier and earlier != document else "this claim, twice"
            raise ConnectorError("DUPLICATE_INVOICE", f"invoice {invoice[0]}-{invoice[1]} was already claimed in "
                                 f"{where}", earlier_claim=earlier or document)
        seen.add(invoice)
    uow.claims.claim_invoices(document, sorted(seen))  # none is claimed: this claim's own were released above
    return {"checked": len(seen)}


HANDLERS: dict[str, Handler] = {
    "budget/Reserve": _reserve,
    "budget/ReserveClaim": _reserve,
    "budget/CheckOverrun": _check_overrun,
    "budget/WriteOff": _write_off,
    "budget/Release": _release,
    "claims/CheckInvoices": _check_invoices,
}


