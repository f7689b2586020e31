"""Incidents: connector jobs that gave up after their retries and instances whose step failed, with a retry.

A job is queued again (attempts reset) by a process designer or an admin once the cause is fixed;
an instance is run again by an admin only (the engine's rule, ``instances retry``).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.domain.errors import BudgetflowError
from engine.services import instance_admin, read_models
from web.budget_pages.access import current, refusal, roles_required
from web.budget_pages.shown import document_url
from web.context import container
from web.process_pages.blueprint import VIEWERS, bp

ADMIN = "admin"
STATUS_WORDS = {
    "user_input_required": _l("waiting for a person's task"), "waiting": _l("waiting for a reply or a timer"),
    "running": _l("running"), "complete": _l("finished"), "incident": _l("still stopped on an error"),
}


@bp.get("/incidents")
@roles_required(*VIEWERS)
def incidents() -> ResponseReturnValue:
    found = read_models.incidents(container().reader)
    return render_template("processes/incidents.html", jobs=found.jobs, instances=found.instances,
                           may_retry_instances=current().has(ADMIN), document_url=document_url)


@bp.post("/incidents/jobs/<int:job_id>/retry")
@roles_required(*VIEWERS)
def retry_job(job_id: int) -> ResponseReturnValue:
    try:
        instance_admin.retry_job(container().uow, job_id=job_id, by=current().code)
    except BudgetflowError as exc:
        return refusal(exc)
    flash(_("Job %(id)s is queued again; the worker picks it up.", id=job_id), "success")
    return redirect(url_for(".incidents"))


@bp.post("/incidents/instances/<int:instance_id>/retry")
@roles_required(ADMIN)
def retry_instance(instance_id: int) -> ResponseReturnValue:
    try:
        outcome = instance_admin.retry(container().uow, instance_id=instance_id, by=current().code)
    except BudgetflowError as exc:
        return refusal(exc)
    status = str(STATUS_WORDS.get(outcome.status, outcome.status))
    flash(_("Instance %(id)s ran again; it is now %(status)s.", id=instance_id, status=status), "success")
    return redirect(url_for(".incidents"))
