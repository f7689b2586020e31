"""The task page: the form drawn from the task's schema, the budget panel, the decision buttons,
delegate and claim/release; a refused form comes back on the same page with the data kept.

Who may see the task and who may act on it now is the engine's rule (``task_view``: None, or
``may_act`` false); the actions themselves are checked again by the engine when they run, so a
page that went stale is refused there (and audited), never half done.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from engine.domain.errors import BudgetflowError
from engine.domain.forms import FormInvalid
from engine.services import document_actions, processes, tasks
from engine.services.steps import Outcome
from engine.services.task_views import TaskView, task_view
from web.forms import BLANK_ROWS, attach, build
from web.forms.parse import Parsed, parse
from web.pages import panels, vouchers
from web.pages.blueprint import bp
from web.pages.common import me, not_visible, page, reader, refused, writer
from web.pages.uploads import store_uploads

APPLICANT_LANE = "applicant"
MORE_ROWS = 3  # blank lines the "more lines" button adds (the way to add lines without JavaScript)
MAX_BLANK_ROWS = 30


def seen_task(handler: Callable[[TaskView], ResponseReturnValue]) -> Callable[[str], ResponseReturnValue]:
    """Load the task as the signed-in person sees it, or answer 403 when they may not see it."""
    @wraps(handler)
    def loaded(task_guid: str) -> ResponseReturnValue:
        view = task_view(reader(), task_guid, me().code)
        return not_visible() if view is None else handler(view)
    return loaded


@bp.get("/tasks/<task_guid>")
@page()
@seen_task
def task(view: TaskView) -> ResponseReturnValue:
    return _page(view, _shown(view))


@bp.post("/tasks/<task_guid>")
@page()
@seen_task
def complete(view: TaskView) -> ResponseReturnValue:
    """Complete the task with the submitted form (the decision comes from the button pressed)."""
    parsed = parse(view.schema or {}, request.form, request.files)
    if request.form.get("_more"):  # "more lines": the same form again with more blank rows, nothing sent
        blank = min(int(request.form.get("_blank", BLANK_ROWS) or BLANK_ROWS) + MORE_ROWS, MAX_BLANK_ROWS)
        return _page(view, {**_shown(view), **parsed.data}, blank_rows=blank)
    problems = store_uploads(view.document_no, parsed) if view.may_act else []
    if problems:  # the files stored before a refused one stay listed by id: nothing is chosen twice
        return _page(view, {**_shown(view), **parsed.data}, problems=problems), 422
    try:
        outcome = processes.complete_task(writer(), task_guid=view.task_guid, user=me().code, form=parsed.data)
    except FormInvalid as exc:
        return _page(view, {**_shown(view), **parsed.data}, problems=exc.problems), 422
    except BudgetflowError as exc:
        return refused(exc)
    return _after(view, outcome, parsed)


@bp.post("/tasks/<task_guid>/delegate")
@page()
@seen_task
def delegate(view: TaskView) -> ResponseReturnValue:
    to = (request.form.get("to") or "").strip().upper()[:64]
    try:
        tasks.delegate(writer(), task_guid=view.task_guid, user=me().code, to=to,
                       reason=(request.form.get("reason") or "")[:500])
    except BudgetflowError as exc:
        return refused(exc)
    flash(_("%(doc)s: handed on to %(to)s.", doc=view.document_no, to=to), "success")
    return redirect(url_for("pages.inbox"))


@bp.post("/tasks/<task_guid>/claim")
@page()
@seen_task
def claim(view: TaskView) -> ResponseReturnValue:
    """A group task becomes mine alone (the others see who took it)."""
    return _hand(view, tasks.claim_task, _("%(doc)s: the task is yours now.", doc=view.document_no),
                 url_for("pages.task", task_guid=view.task_guid))


@bp.post("/tasks/<task_guid>/release")
@page()
@seen_task
def release(view: TaskView) -> ResponseReturnValue:
    """Give a claimed group task back to the group."""
    return _hand(view, tasks.release_task, _("%(doc)s: the task is back in the group's list.", doc=view.document_no),
                 url_for("pages.inbox"))


def _hand(view: TaskView, action: Callable[..., None], done: str, then: str) -> ResponseReturnValue:
    try:
        action(writer(), task_guid=view.task_guid, user=me().code)
    except BudgetflowError as exc:
        return refused(exc)
    flash(done, "success")
    return redirect(then)


def _shown(view: TaskView) -> dict[str, Any]:
    """What the form starts with. The applicant's own form edits the document: it shows what is there. An
    approval is a decision of its own (the engine counts only what is sent): its fields start empty, so the
    previous approver's comment is never offered as this one's."""
    if view.lane in (None, APPLICANT_LANE) or view.status != "open":
        return view.values
    read_only = {k for k, v in (view.schema or {}).get("properties", {}).items() if v.get("readOnly")}
    return {k: v for k, v in view.values.items() if k in read_only}


def _page(view: TaskView, values: dict[str, Any], *, problems: list[str] | None = None,
          blank_rows: int = BLANK_ROWS) -> str:
    fields = build(view.schema or {"properties": {}}, values, decisions=view.decisions, blank_rows=blank_rows)
    summary = attach(fields, problems or [])
    who = me().code
    document = panels.document(view.document_no, who)
    finance_task = view.lane in vouchers.FINANCE_LANES
    return render_template("pages/task.html", view=view, fields=fields, problems=summary, blank_rows=blank_rows,
                           document=document,
                           voucher=vouchers.voucher_panel(document, me(), finance_page=finance_task),
                           panel=panels.budget(view.document_no, who), attachments=panels.attachments(view.document_no),
                           colleagues=document_actions.colleagues(reader(), who) if view.may_delegate else [])


def _after(view: TaskView, outcome: Outcome, parsed: Parsed) -> ResponseReturnValue:
    """Where to go next: my next task on this document (a resubmission's next form), else the document."""
    decision = parsed.data.get("decision")
    words = {"approve": _("approved"), "reject": _("rejected"), "send_back": _("sent back")}
    what = words.get(str(decision)) or _("submitted")
    flash(_("%(doc)s: %(what)s.", doc=view.document_no, what=what), "success")
    mine = [t for t in outcome.open_tasks if me().code in (t.get("candidates") or [])]
    if mine:
        return redirect(url_for("pages.task", task_guid=mine[0]["task_guid"]))
    if decision is None:  # the applicant's own form: follow the document
        return redirect(url_for("pages.document", document_no=view.document_no))
    return redirect(url_for("pages.inbox"))
