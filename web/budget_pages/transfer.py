"""Move budget from one line to another (budget admins only).

Each rendering of the form carries a fresh idempotency key; the engine books a key once, so a double
click, a resent form or a retry after a lost answer moves the money once. A form sent back with errors
keeps its key: fixing the amount and sending again is still the same single transfer.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from engine.domain.errors import BudgetflowError, InvalidAmount
from engine.domain.money import Money, parse_amount
from engine.services.budget_lines import LineRow, transfer_between, visible_lines
from engine.services.steps import NotAllowed
from web.budget_pages import shown
from web.budget_pages.access import current, refusal, roles_required
from web.budget_pages.blueprint import TRANSFERRER, bp
from web.context import container
from web.errors import error_response
from web.i18n import money

KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
MAX_MEMO = 500
MAX_LINES = 2000  # what the drop-downs offer; beyond it a company narrows by period first


@dataclass
class TransferForm:
    from_line: str = ""
    to_line: str = ""
    amount: str = ""
    memo: str = ""
    key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def posted(cls) -> TransferForm:
        return cls(**{name: request.form.get(name, "").strip()
                      for name in ("from_line", "to_line", "amount", "memo", "key")})


@bp.get("/transfer")
@roles_required(TRANSFERRER)
def transfer() -> ResponseReturnValue:
    form = TransferForm(from_line=request.args.get("from", ""), to_line=request.args.get("to", ""))
    return _form_page(form, _lines())


@bp.post("/transfer")
@roles_required(TRANSFERRER)
def make_transfer() -> ResponseReturnValue:
    form = TransferForm.posted()
    if not KEY.fullmatch(form.key):
        return error_response(400, "FORM_KEY", _("The form is incomplete. Reload the transfer page and fill it in "
                                                 "again."))
    options = _lines()
    checked = _checked(form, options)
    if checked is None:
        return _form_page(form, options, status=422)
    source, target, amount = checked
    try:
        transfer_between(container().uow, by=current(), from_line=source.line_id, to_line=target.line_id,
                         amount=amount, memo=form.memo, key=f"web-transfer:{form.key}")
    except NotAllowed as exc:
        return refusal(exc)
    except BudgetflowError as exc:
        form.errors["amount"] = str(exc)
        return _form_page(form, options, status=422)
    flash(_("Moved %(amount)s from %(source)s to %(target)s.", amount=money(amount.amount, amount.currency),
            source=source.line_key, target=target.line_key), "success")
    return redirect(url_for(".line", line_id=source.line_id))


def _checked(form: TransferForm, options: dict[int, LineRow]) -> tuple[LineRow, LineRow, Money] | None:
    """The two lines and the amount, or None with ``form.errors`` saying what is wrong where."""
    source, target = _line(form, "from_line", options), _line(form, "to_line", options)
    if source and target and source.line_id == target.line_id:
        form.errors["to_line"] = _("Choose a line other than the one the money comes from.")
    if not form.memo:
        form.errors["memo"] = _("Say why the budget moves (it is kept in the audit log).")
    elif len(form.memo) > MAX_MEMO:
        form.errors["memo"] = _("At most %(n)s characters.", n=MAX_MEMO)
    amount = None
    if source is not None:
        try:
            amount = Money(parse_amount(form.amount, currency=source.currency, field=_("amount")), source.currency)
        except InvalidAmount as exc:
            form.errors["amount"] = str(exc)
    if form.errors or source is None or target is None or amount is None:
        return None
    return source, target, amount


def _line(form: TransferForm, name: str, options: dict[int, LineRow]) -> LineRow | None:
    value = getattr(form, name)
    found = options.get(int(value)) if value.isdigit() else None
    if found is None:
        form.errors[name] = _("Choose a budget line from the list.")
    return found


def _lines() -> dict[int, LineRow]:
    """Every line the budget admin may move money between, by id, in line-key order."""
    found: dict[int, LineRow] = {}
    cursor = None
    while len(found) < MAX_LINES:
        page = visible_lines(container().reader, current(), cursor=cursor, limit=200)
        found.update((row.line_id, row) for row in page)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return found


def _form_page(form: TransferForm, options: dict[int, LineRow], *, status: int = 200) -> ResponseReturnValue:
    periods: dict[str, list[LineRow]] = {}
    for row in options.values():
        periods.setdefault(row.period, []).append(row)
    context: dict[str, Any] = {"form": form, "periods": periods, "shown": shown}
    return render_template("budgets/transfer.html", **context), status
