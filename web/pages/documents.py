"""The document page (status, outcome, voucher, history, open tasks, budget, files, process picture),
withdrawing a pending document.

Who may see a document is the engine's rule (``document_view`` returns None otherwise); withdrawing is
the applicant's alone and only while the run waits for it (``may_withdraw``; the engine checks again).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from engine.domain.errors import BudgetflowError
from engine.services import document_actions
from web.pages import panels
from web.pages.blueprint import bp
from web.pages.common import forbidden, me, not_visible, page, refused, writer

MAX_REASON = 500


@bp.get("/documents/<document_no>")
@page()
def document(document_no: str) -> ResponseReturnValue:
    who = me().code
    view = panels.document(document_no, who)
    if view is None:
        return not_visible()
    return render_template("pages/document.html", document=view, panel=panels.budget(document_no, who))


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
