"""The operator registry: every ``spiffworkflow:serviceTaskOperator`` id a diagram may name.

Each entry declares its parameters (``budgetflow bpmn check`` holds diagrams to them)
and who runs it: ``engine`` operators run inside the instance's transaction (the
budget ledger, invoice checks); ``outbox`` operators call other systems and run
asynchronously through the durable outbox, keyed by instance + task.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OperatorSpec:
    name: str
    params: tuple[str, ...]
    runs_in: str  # "engine" or "outbox"
    errors: tuple[str, ...] = ()
    summary: str = ""
    waits: bool = True  # an outbox operator the flow waits for; False: queued, and the flow moves on
    optional: tuple[str, ...] = ()  # parameters a diagram may pass or leave out


_BUDGET_LINE = ("document_no", "org_unit", "subject", "period", "amount", "currency")

OPERATORS: dict[str, OperatorSpec] = {spec.name: spec for spec in (
    OperatorSpec("budget/Reserve", _BUDGET_LINE, "engine", ("BUDGET_INSUFFICIENT",),
                 "earmark the amount on the applicant's budget line (预占)"),
    OperatorSpec("budget/ReserveClaim", _BUDGET_LINE, "engine", ("BUDGET_INSUFFICIENT",),
                 "reserve for a standalone claim that has no application"),
    OperatorSpec("budget/CheckOverrun", ("document_no", "reservation_id", "amount", "currency"), "engine",
                 ("BUDGET_INSUFFICIENT",), "does the claim exceed its reservation, and is the excess allowed?"),
    OperatorSpec("budget/WriteOff", ("document_no", "reservation_id", "amount", "currency", "close"), "engine",
                 ("BUDGET_INSUFFICIENT",), "consume the actual amount against the reservation (核销)"),
    OperatorSpec("budget/Release", ("document_no", "reservation_id", "reason"), "engine", (),
                 "give back what a reservation still holds"),
    OperatorSpec("claims/CheckInvoices", ("document_no", "lines"), "engine", ("DUPLICATE_INVOICE",),
                 "refuse an invoice (code + number) that another claim already used"),
    OperatorSpec("erp/PostVoucher", ("document_no", "applicant", "lines", "total", "currency"), "outbox",
                 ("ERP_POST_FAILED",), "post the expense voucher (凭证) to the ERP"),
    OperatorSpec("notify/Send", ("to", "template", "document_no"), "outbox", (), "notify a person",
                 waits=False, optional=("overdue",)),
    OperatorSpec("oa/CreateApproval", ("document_no", "applicant", "fields"), "outbox",
                 ("OA_REJECTED", "OA_NOT_CONFIGURED"),
                 "create the approval in the applicant's OA suite, fields mapped by the data dictionary's oa_forms",
                 optional=("vendor",)),
    OperatorSpec("oa/GetApproval", ("vendor", "instance_id"), "outbox", ("OA_UNKNOWN_INSTANCE", "OA_NOT_CONFIGURED"),
                 "read an OA approval's status (the poll when no callback came)"),
)}


def spec(name: str) -> OperatorSpec | None:
    return OPERATORS.get(name)
