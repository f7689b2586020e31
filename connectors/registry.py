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
    result: str = ""  # what the task's resultVariable holds afterwards (``budgetflow bpmn operators``)

    def describe(self, parameter: str) -> str:
        return PARAMETERS.get(parameter, "")


# What each parameter means, for ``budgetflow bpmn operators`` (a value is a Python expression over task data).
PARAMETERS = {
    "document_no": "the document's number (application or claim), e.g. document_no",
    "org_unit": "the org unit whose budget is charged",
    "subject": "the expense subject (科目) code",
    "period": "the budget period, e.g. '2026-07'",
    "amount": "the amount, a decimal text such as '1200.00'",
    "currency": "ISO currency code, e.g. 'CNY'",
    "reservation_id": "the id of the reservation made by budget/Reserve (reservation['reservation_id'])",
    "close": "True to close the reservation and give back what it still holds",
    "reason": "why the reservation is released (audited)",
    "lines": "the claim's expense lines (a list of objects with invoice code and number, amount, subject)",
    "applicant": "the applicant's employee code",
    "total": "the voucher total, a decimal text",
    "to": "who is notified: 'applicant', an employee code, or 'lane:<lane name>'",
    "template": "the message template's name",
    "overdue": "how late a reminder is (the engine sets timer_overdue after an outage)",
    "fields": "the approval's fields, mapped by the data dictionary's oa_forms",
    "vendor": "the OA suite (as configured); by default the applicant's",
    "instance_id": "the OA approval's id (oa_approval['instance_id'])",
}


_BUDGET_LINE = ("document_no", "org_unit", "subject", "period", "amount", "currency")

OPERATORS: dict[str, OperatorSpec] = {spec.name: spec for spec in (
    OperatorSpec("budget/Reserve", _BUDGET_LINE, "engine", ("BUDGET_INSUFFICIENT",),
                 "earmark the amount on the applicant's budget line (预占)",
                 result="reservation_id, line_id, amount, currency, over_budget, available_after"),
    OperatorSpec("budget/ReserveClaim", _BUDGET_LINE, "engine", ("BUDGET_INSUFFICIENT",),
                 "reserve for a standalone claim that has no application",
                 result="reservation_id, line_id, amount, currency, over_budget, available_after"),
    OperatorSpec("budget/CheckOverrun", ("document_no", "reservation_id", "amount", "currency"), "engine",
                 ("BUDGET_INSUFFICIENT",), "does the claim exceed its reservation, and is the excess allowed?",
                 result="overrun (true/false), excess, within_tolerance, over_budget"),
    OperatorSpec("budget/WriteOff", ("document_no", "reservation_id", "amount", "currency", "close"), "engine",
                 ("BUDGET_INSUFFICIENT",), "consume the actual amount against the reservation (核销)",
                 result="reservation_id, from_reservation, excess, released, closed, over_budget"),
    OperatorSpec("budget/Release", ("document_no", "reservation_id", "reason"), "engine", (),
                 "give back what a reservation still holds", result="released (the amount), and a note"),
    OperatorSpec("claims/CheckInvoices", ("document_no", "lines"), "engine", ("DUPLICATE_INVOICE",),
                 "refuse an invoice (code + number) that another claim already used",
                 result="checked (how many invoices)"),
    OperatorSpec("erp/PostVoucher", ("document_no", "applicant", "lines", "total", "currency"), "outbox",
                 ("ERP_POST_FAILED",), "post the expense voucher (凭证) to the ERP",
                 result="voucher_no, replayed, erp (the ERP's name)"),
    OperatorSpec("notify/Send", ("to", "template", "document_no"), "outbox", (), "notify a person",
                 waits=False, optional=("overdue",), result="nothing to use: the notification is queued"),
    OperatorSpec("oa/CreateApproval", ("document_no", "applicant", "fields"), "outbox",
                 ("OA_REJECTED", "OA_NOT_CONFIGURED"),
                 "create the approval in the applicant's OA suite, fields mapped by the data dictionary's oa_forms",
                 optional=("vendor",), result="vendor, instance_id (of the approval in the OA)"),
    OperatorSpec("oa/GetApproval", ("vendor", "instance_id"), "outbox", ("OA_UNKNOWN_INSTANCE", "OA_NOT_CONFIGURED"),
                 "read an OA approval's status (the poll when no callback came)",
                 result="status, terminal (true once approved, rejected or withdrawn)"),
)}


def spec(name: str) -> OperatorSpec | None:
    return OPERATORS.get(name)
