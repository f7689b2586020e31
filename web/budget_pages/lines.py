"""The budget lines a person may see, by period, org unit and subject, with how much of each is used."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from engine.services.budget_lines import visible_lines
from web.budget_pages import shown
from web.budget_pages.access import current, roles_required
from web.budget_pages.blueprint import READERS, TRANSFERRER, bp
from web.context import container
from web.errors import error_response

PAGE_SIZE = 50
MAX_FILTER = 64
FILTERS = ("period", "org_unit", "subject")


@bp.get("")
@roles_required(*READERS)
def lines() -> ResponseReturnValue:
    chosen = {name: " ".join(request.args.get(name, "").split())[:MAX_FILTER] for name in FILTERS}
    cursor = request.args.get("cursor") or None
    try:
        page = visible_lines(container().reader, current(), **{k: v or None for k, v in chosen.items()},
                             cursor=cursor, limit=PAGE_SIZE)
    except ValueError:
        return error_response(400, "BAD_CURSOR", _("This page link is out of date or was changed. Start again from "
                                                    "the first page of budget lines."))
    return render_template("budgets/lines.html", page=page, chosen=chosen, paged=cursor is not None,
                           shown=shown, may_transfer=current().has(TRANSFERRER))
