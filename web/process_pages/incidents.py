"""Incidents: connector jobs that gave up after their retries and instances whose step failed, with a retry.

A job is queued again (attempts reset) by a process designer or an admin once the cause is fixed;
an instance is run again by an admin only (the engine's rule, ``instances retry``).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from engine.domain.errors import BudgetflowError
from engine.services import instance_admin, read_models
from web.budget_pages.access import current, refusal, roles_required
from web.context import container
from web.process_pages.blueprint import VIEWERS, bp

ADMIN = "admin"


@bp.get("/incidents")
@roles_required(*VIEWERS)
def incidents() -> ResponseReturnValue:
    found = read_models.incidents(container().reader)
    return render_template("processes/incidents.html", jobs=found.jobs, instances=found.instances,
                           may_retry_instances=current().has(ADMIN))


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
    flash(_("Instance %(id)s ran again; it is now %(status)s.", id=instance_id, status=outcome.status), "success")
    return redirect(url_for(".incidents"))
