"""The applicant's pages: start an application or a claim, and my documents (withdraw, resubmit)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from engine.domain.errors import BudgetflowError
from engine.services import inbox as inbox_model
from engine.services import my_documents as document_service
from engine.services.document_numbers import start_document
from web.pages.blueprint import bp
from web.pages.common import bad_request, me, page, reader, refused, writer

APPLICANT_ROLE = "employee"
PAGE_SIZE = 50
CLAIM_PROCESS = "expense_claim"


@bp.get("/new")
@page(APPLICANT_ROLE)
def new() -> ResponseReturnValue:
    return render_template("pages/new.html", processes=document_service.startable(reader()),
                           applications=document_service.approved_applications(reader(), me().code),
                           claim_process=CLAIM_PROCESS)


@bp.post("/new")
@page(APPLICANT_ROLE)
def start() -> ResponseReturnValue:
    """Start the chosen process (a claim optionally on one of my approved applications), then its first form."""
    process_id = (request.form.get("process_id") or "").strip()
    application_no = (request.form.get("application_no") or "").strip() or None
    known = {p["process_id"] for p in document_service.startable(reader())}
    if process_id not in known:
        return bad_request(_("Choose one of the processes offered on the New page."))
    if application_no and process_id != CLAIM_PROCESS:
        application_no = None  # only a claim draws on an application
    try:
        document_no, outcome = start_document(writer(), process_id=process_id, applicant=me().code,
                                              application_no=application_no)
    except BudgetflowError as exc:
        return refused(exc)
    mine = [t for t in outcome.open_tasks if me().code in (t.get("candidates") or [])]
    if mine:
        return redirect(url_for("pages.task", task_guid=mine[0]["task_guid"]))
    flash(_("%(doc)s started.", doc=document_no), "success")
    return redirect(url_for("pages.document", document_no=document_no))


@bp.get("/documents")
@page(APPLICANT_ROLE)
def my_documents() -> ResponseReturnValue:
    status = request.args.get("status") or None
    try:
        found = document_service.my_documents(reader(), me().code, status=status,
                                              cursor=request.args.get("cursor") or None, limit=PAGE_SIZE)
    except ValueError as exc:
        return bad_request(str(exc))
    return render_template("pages/documents.html", page=found, status=status, my_tasks=_my_open_tasks())


def _my_open_tasks() -> dict[str, str]:
    """document number -> my open task on it (a form sent back to me): one inbox query for the whole list."""
    rows = inbox_model.inbox(reader(), me().code, view="mine", limit=inbox_model.MAX_LIMIT).rows
    found: dict[str, str] = {}
    for row in rows:
        found.setdefault(row.document_no, row.task_guid)
    return found
