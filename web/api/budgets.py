"""Budgets: lines with their balances, a line's ledger entries, and transfers between lines.

Who sees which line is the engine's rule (budget admins, finance, admins and auditors all lines; a manager
the lines of their units and below; anyone else none); a transfer is a budget admin's. The token's scopes
count here: a finance person's token scoped to ``employee`` sees no lines.
"""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from werkzeug.exceptions import NotFound

from engine.domain.money import Money as Amount
from engine.domain.money import parse_amount
from engine.services import budget_lines
from web.api.auth import current, roles
from web.api.blueprint import api_blueprint, id_in_path
from web.api.fields import DecimalText, Money, UtcTime
from web.api.paging import PageArgs, page, page_schema
from web.api.schemas import LineBalanceSchema
from web.context import container

blp = api_blueprint("Budgets", __name__, url_prefix="/api/v1", description="Budget lines, ledger entries, transfers")

READERS = ("employee", "manager", "finance", "budget_admin", "admin", "auditor", "process_designer")
TRANSFERS = ("budget_admin",)


class LineArgs(PageArgs):
    period = ma.fields.String(validate=ma.validate.Length(1, 16), metadata={"description": "e.g. 2026"})
    org_unit = ma.fields.String(validate=ma.validate.Length(1, 64))
    subject = ma.fields.String(validate=ma.validate.Length(1, 64))


class LineSchema(LineBalanceSchema):
    line_key = ma.fields.String(required=True)
    cost_center = ma.fields.String(allow_none=True)
    utilisation = DecimalText(required=True, metadata={"description": "(reserved + consumed) / allocated; above 1 "
                                                                      "overspent"})


class EntrySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "ALLOCATE, ADJUST, RESERVE, CONSUME, RELEASE"})
    amount = Money(required=True)
    currency = ma.fields.String(required=True)
    document_no = ma.fields.String(allow_none=True)
    reservation_id = ma.fields.Integer(allow_none=True)
    memo = ma.fields.String(allow_none=True)
    at = UtcTime(required=True)
    actor = ma.fields.String(allow_none=True)
    budget_delta = Money(required=True)
    reserved_delta = Money(required=True)
    consumed_delta = Money(required=True)


class TransferBody(ma.Schema):
    from_line = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 2**63 - 1))
    to_line = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 2**63 - 1))
    amount = Money(required=True, metadata={"description": "more than zero, at the currency's places"})
    currency = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[A-Z]{3}$"))
    memo = ma.fields.String(load_default="", validate=ma.validate.Length(0, budget_lines.MAX_MEMO))
    key = ma.fields.String(validate=ma.validate.Regexp(r"^[A-Za-z0-9._:-]{8,200}$"), metadata={
        "description": "idempotency key: the same key again moves nothing more and answers the first result"})

    @ma.validates_schema
    def _two_lines(self, body: dict[str, Any], **_kwargs: Any) -> None:
        if body.get("from_line") == body.get("to_line"):
            raise ma.ValidationError("a transfer needs two different lines", "to_line")


class LineChangeSchema(ma.Schema):
    line_id = ma.fields.Integer(required=True)
    budget_after = Money(required=True, metadata={"description": "the line's budget after the transfer"})
    currency = ma.fields.String(required=True)


class TransferredSchema(ma.Schema):
    key = ma.fields.String(required=True)
    replayed = ma.fields.Boolean(required=True, metadata={"description": "true: this key had been used already"})
    from_line = ma.fields.Nested(LineChangeSchema, required=True)
    to_line = ma.fields.Nested(LineChangeSchema, required=True)


@blp.route("/budget-lines")
@roles(*READERS)
@blp.arguments(LineArgs, location="query")
@blp.response(200, page_schema(LineSchema, "BudgetLines"))
def lines(args: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The budget lines the caller may see, by line key, with allocated, reserved, consumed, available and
    utilisation; narrowed by period, org unit and subject."""
    found = budget_lines.visible_lines(container().reader, current(), period=args.get("period"),
                                       org_unit=args.get("org_unit"), subject=args.get("subject"),
                                       cursor=args.get("cursor"), limit=args["limit"])
    return page(found.rows, found.next_cursor)


@blp.route(f"/budget-lines/{id_in_path('line_id')}/entries")
@roles(*READERS)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(EntrySchema, "LedgerEntries"))
def entries(args: dict[str, Any], line_id: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    """A line's ledger entries, newest first, with the documents behind them. 404 when there is no such line
    or the caller may not see it."""
    found = budget_lines.line_entries(container().reader, current(), line_id, cursor=args.get("cursor"),
                                      limit=args["limit"])
    if found is None:
        raise NotFound(f"no budget line {line_id} that this token may see")
    return page(found.rows, found.next_cursor)


@blp.route("/budget-transfers", methods=["POST"])
@roles(*TRANSFERS)
@blp.arguments(TransferBody)
@blp.response(201, TransferredSchema)
def transfer(body: dict[str, Any]) -> dict[str, Any]:
    """Move budget from one line to another (budget admins; both lines in the amount's currency); audited."""
    amount = Amount(parse_amount(body["amount"], currency=body["currency"]), body["currency"])
    key = body.get("key") or f"api-transfer:{uuid.uuid4()}"
    taken, given = budget_lines.transfer_between(container().uow, by=current(), from_line=body["from_line"],
                                                 to_line=body["to_line"], amount=amount, memo=body["memo"], key=key)
    return {"key": key, "replayed": taken.replayed,
            "from_line": {**taken.to_json(), "currency": amount.currency},
            "to_line": {**given.to_json(), "currency": amount.currency}}
