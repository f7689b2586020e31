"""One budget line: its balances and use, and its ledger entries newest first with the documents behind them."""

from __future__ import annotations

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from engine.services import read_models
from engine.services.budget_lines import LineRow, line_entries, visible_lines
from web.budget_pages import shown
from web.budget_pages.access import current, roles_required
from web.budget_pages.blueprint import READERS, TRANSFERRER, bp
from web.context import container
from web.errors import error_response

PAGE_SIZE = 50


@bp.get("/<int:line_id>")
@roles_required(*READERS)
def line(line_id: int) -> ResponseReturnValue:
    try:
        entries = line_entries(container().reader, current(), line_id, cursor=request.args.get("cursor") or None,
                               limit=PAGE_SIZE)
    except ValueError:
        return error_response(400, "BAD_CURSOR", _("This page link is out of date or was changed. Start again from "
                                                    "the newest entries."))
    found = line_row(line_id) if entries is not None else None
    if entries is None or found is None:
        abort(404, _("There is no budget line %(id)s among the lines you may see.", id=line_id))
    return render_template("budgets/line.html", line=found, entries=entries, shown=shown,
                           paged=bool(request.args.get("cursor")), may_transfer=current().has(TRANSFERRER))


def line_row(line_id: int) -> LineRow | None:
    """The line as the list shows it: found by its key among the lines of its period the viewer sees."""
    rows, _names = read_models.balances(container().reader)
    key = next((r.label for r in rows if r.line_id == line_id), None)
    if key is None:
        return None
    cursor = None
    for _page in range(100):  # a period holds at most a few thousand lines: bounded, never an endless walk
        page = visible_lines(container().reader, current(), period=key.split("/", 1)[0], cursor=cursor, limit=200)
        found = next((r for r in page if r.line_id == line_id), None)
        if found is not None or page.next_cursor is None:
            return found
        cursor = page.next_cursor
    return None
