"""The engine-side operators: budget and invoice checks, run inside the instance's transaction.

Idempotency key of every call: instance id + task guid (the Temporal/Camunda rule,
docs/engine.md), so a step re-run after a crash books nothing twice.
Operators that reach other systems are not run here: they go to the outbox.

Ownership comes from the stored instance, never from task data: the document number,
the applicant (who is paid) and the org unit (whose budget) a diagram passes must be the
instance's own, a reservation must belong to the document or to the application it is
linked to, and amounts go through the one money parser. A mismatch is not a business
outcome the diagram may catch: it stops the step (an incident, audited).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.base import ConnectorError
from connectors.registry import spec
from engine.domain import budget
from engine.domain.budget import ReservationStatus
from engine.domain.budget_line import BudgetLineKey
from engine.domain.errors import BudgetflowError, BudgetInsufficient, ReservationClosed, UnknownReservation
from engine.domain.identifiers import canonical_identifier
from engine.domain.money import Money, parse_amount
from engine.services import ledger
from engine.services.ports import InstanceRecord, UnitOfWork
from engine.workflow.ports import OperatorCall


class OwnershipMismatch(BudgetflowError):
    """A diagram passed an operator a document, person, unit or reservation that is not this instance's."""

    code = "OWNERSHIP_MISMATCH"


Handler = Callable[[UnitOfWork, OperatorCall, str, InstanceRecord], dict[str, Any]]
_OWNED_PARAMS = {"document_no": "business_key", "applicant": "applicant", "org_unit": "org_unit"}


class InstanceOperators:
    """The OperatorPort for one instance's engine pass; ``row`` is the locked, stored instance."""

    def __init__(self, uow: UnitOfWork, row: InstanceRecord) -> None:
        self.uow = uow
        self.row = row

    def call(self, call: OperatorCall) -> dict[str, Any] | None:
        key = f"{self.row.id}:{call.task_guid}"
        operator = spec(call.operator)
        if operator is None:
            raise ConnectorError("UNKNOWN_OPERATOR", f"{call.bpmn_id}: no operator {call.operator!r}")
        _require_owned(call, self.row)
        if operator.runs_in == "outbox":
            self.uow.instances.enqueue(instance_id=self.row.id, task_guid=call.task_guid,
                                       operator=call.operator, params=call.params, key=key)
            # A notification does not hold the request up: it is queued durably and the flow moves on.
            return None if operator.waits else {"queued": True}
        try:
            return HANDLERS[call.operator](self.uow, call, key, self.row)
        except (BudgetInsufficient, ReservationClosed, UnknownReservation) as exc:
            # All mean "this money is not there for this claim": the diagram's budget boundary handles them.
            details = {k: str(v) for k, v in exc.details.items()}
            raise ConnectorError("BUDGET_INSUFFICIENT", str(exc), retryable=False, **details) from exc


def _require_owned(call: OperatorCall, row: InstanceRecord) -> None:
    for param, column in _OWNED_PARAMS.items():
        stored = getattr(row, column, None)
        if param in call.params and stored is not None and call.params[param] != stored:
            raise OwnershipMismatch(f"{call.bpmn_id}: {param} {call.params[param]!r} is not this document's "
                                    f"({stored!r}); the engine sets it, the diagram only passes it on")


def _money(p: dict[str, Any]) -> Money:
    currency = p.get("currency") or "CNY"
    return Money.of(parse_amount(p["amount"], currency=currency, field="amount"), currency)


def _own_reservation(uow: UnitOfWork, row: InstanceRecord, reservation_id: int, *, linked_allowed: bool) -> str:
    """The document of ``reservation_id``, which must be this instance's own (or its linked application's)."""
    document = uow.claims.reservation_document(reservation_id)
    if document is None:
        raise UnknownReservation(f"reservation {reservation_id} does not exist")
    if document == row.business_key:
        return str(document)
    if linked_allowed and document == row.linked_document and uow.instances.applicant_of(document) == row.applicant:
        return str(document)
    raise OwnershipMismatch(f"reservation {reservation_id} belongs to {document}, not to {row.business_key}"
                            + (f" or its application {row.linked_document}" if linked_allowed and
                               row.linked_document else ""))


def _reserve(uow: UnitOfWork, call: OperatorCall, key: str, row: InstanceRecord) -> dict[str, Any]:
    p = call.params
    unit = row.org_unit or p["org_unit"]  # instances made before the org unit was stored keep the diagram's
    line_key = BudgetLineKey(period=str(p["period"]), org_unit=unit, subject=p["subject"])
    line_id = uow.claims.line_id(line_key)
    if line_id is None:
        raise BudgetInsufficient(f"there is no budget line {line_key.label} for this request")
    result = ledger.reserve_in(uow.ledger, line_id=line_id, amount=_money(p), key=key, document=p["document_no"])
    return result.to_json()


def _check_overrun(uow: UnitOfWork, call: OperatorCall, key: str, row: InstanceRecord) -> dict[str, Any]:
    p = call.params
    reservation_id = int(p["reservation_id"])
    if _own_reservation(uow, row, reservation_id, linked_allowed=True) != row.linked_document:
        raise OwnershipMismatch(f"{call.bpmn_id}: reservation {reservation_id} is not the linked application's")
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


def _write_off(uow: UnitOfWork, call: OperatorCall, key: str, row: InstanceRecord) -> dict[str, Any]:
    p = call.params
    _own_reservation(uow, row, int(p["reservation_id"]), linked_allowed=True)
    result = ledger.write_off_in(uow.ledger, reservation_id=int(p["reservation_id"]), amount=_money(p), key=key,
                                 document=p["document_no"], close=bool(p.get("close", True)))
    return result.to_json()


def _release(uow: UnitOfWork, call: OperatorCall, key: str, row: InstanceRecord) -> dict[str, Any]:
    p = call.params
    if p.get("reservation_id") in (None, ""):
        return {"released": "0", "note": "nothing was reserved"}
    _own_reservation(uow, row, int(p["reservation_id"]), linked_allowed=False)  # never the application's
    try:
        result = ledger.release_in(uow.ledger, reservation_id=int(p["reservation_id"]), key=key,
                                   document=p["document_no"], reason=str(p.get("reason") or ""))
    except ReservationClosed:
        return {"released": "0", "note": "the reservation was already closed"}
    return result.to_json()


def _check_invoices(uow: UnitOfWork, call: OperatorCall, key: str, row: InstanceRecord) -> dict[str, Any]:
    document = row.business_key
    uow.claims.release_invoices(document)  # a resubmission may have changed them: claim the current set afresh
    seen: set[tuple[str, str]] = set()
    for n, line in enumerate(call.params.get("lines") or [], start=1):
        invoice = _invoice(line, n)
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


def _invoice(line: object, n: int) -> tuple[str, str]:
    """An invoice's code and number in canonical form: ``０１２３`` and ``0123 `` are the same invoice."""
    if not isinstance(line, dict):
        raise OwnershipMismatch(f"claim line {n} is not an object")
    code = canonical_identifier(line.get("invoice_code") or "", field=f"line {n} invoice_code", max_length=40,
                                required=False)
    number = canonical_identifier(line.get("invoice_number") or "", field=f"line {n} invoice_number",
                                  max_length=40, required=False)
    return code, number


HANDLERS: dict[str, Handler] = {
    "budget/Reserve": _reserve,
    "budget/ReserveClaim": _reserve,
    "budget/CheckOverrun": _check_overrun,
    "budget/WriteOff": _write_off,
    "budget/Release": _release,
    "claims/CheckInvoices": _check_invoices,
}


