"""The document page (status, outcome, voucher, history, open tasks, budget, files, process picture),
withdrawing a pending document, and downloading its files.

Who may see a document is the engine's rule (``document_view`` returns None otherwise); withdrawing is
the applicant's alone and only while the run waits for it (``may_withdraw``; the engine checks again).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from engine.domain.errors import BudgetflowError
from engine.services import attachments as attachment_store
from engine.services import document_actions
from web.pages import panels, vouchers
from web.pages.blueprint import bp
from web.pages.common import forbidden, me, not_visible, page, reader, refused, writer

MAX_REASON = 500


@bp.get("/documents/<document_no>")
@page()
def document(document_no: str) -> ResponseReturnValue:
    who = me().code
    view = panels.document(document_no, who)
    if view is None:
        return not_visible()
    return render_template("pages/document.html", document=view, panel=panels.budget(document_no, who),
                           attachments=panels.attachments(document_no),
                           voucher=vouchers.voucher_panel(view, me(), finance_page=True))


@bp.post("/documents/<document_no>/withdraw")
@page()
def withdraw(document_no: str) -> ResponseReturnValue:
    view = panels.document(document_no, me().code)
    if view is None:
        return not_visible()
    if view.applicant != me().code:
        return forbidden(_("Only the applicant may withdraw %(doc)s.", doc=document_no))
    try:
        document_actions.withdraw(writer(), document_no=document_no, user=me().code,
                                  reason=(request.form.get("reason") or "")[:MAX_REASON])
    except BudgetflowError as exc:
        return refused(exc)
    flash(_("%(doc)s is withdrawn; its budget reservation is given back.", doc=document_no), "success")
    return redirect(url_for("pages.document", document_no=document_no))


@bp.get("/attachments/<attachment_id>")
@page()
def attachment(attachment_id: str) -> ResponseReturnValue:
    """A stored file, to the people who may see its document; always as a download, never shown in our origin."""
    found = attachment_store.attachment(reader(), attachment_id, me().code)
    if found is None:
        return not_visible()
    meta, data = found
    response = Response(data, mimetype=meta["content_type"])
    response.headers["Content-Disposition"] = _disposition(meta["filename"])
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _disposition(filename: str) -> str:
    ascii_name = re.sub(r'[^\x20-\x7e]|["\\]', "_", filename) or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
