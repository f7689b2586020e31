"""Upload a diagram bundle, see ``bpmn check``'s findings, publish it as a new model version when it passes.

The check page carries the checked files back in the publish form (``uploads.pack``), so publishing
needs no server-side state and publishes exactly what was checked; ``processes.deploy_version`` checks
again anyway and refuses anything with a problem. Deploying the same files twice gives the same version.
Publishing stores; it activates only when the designer ticks "activate now" (or it is the first version):
otherwise the version page's "Activate" button does, as ``budgetflow bpmn activate`` does.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from engine.services import processes
from engine.services.lanes import known_lanes
from engine.workflow.bundle import content_hash
from engine.workflow.check import check
from engine.workflow.errors import BundleInvalid
from web.budget_pages.access import current, roles_required
from web.context import container
from web.process_pages.blueprint import DESIGNER, VIEWERS, bp
from web.process_pages.uploads import Upload, pack, read_upload, unpack

MAX_LABEL = 200


@bp.get("/upload")
@roles_required(*VIEWERS)
def upload() -> ResponseReturnValue:
    return render_template("processes/upload.html", result=None)


@bp.post("/upload")
@roles_required(*VIEWERS)
def check_upload() -> ResponseReturnValue:
    parts = [(f.filename or "", f.read()) for f in request.files.getlist("files") if f.filename]
    found = read_upload(parts)
    if not parts:
        found.problems.append("-:-: " + _("choose the .bpmn, .dmn and .schema.json files, or a zip of them"))
    elif not found.files and not found.problems:
        found.problems.append("-:-: " + _("the upload holds no .bpmn, .dmn or .schema.json file"))
    return _result_page(found, label=request.form.get("label", ""))


@bp.post("/publish")
@roles_required(DESIGNER)
def publish() -> ResponseReturnValue:
    found = unpack(request.form.get("bundle", ""))
    label = " ".join(request.form.get("label", "").split())
    if len(label) > MAX_LABEL:
        found.problems.append("label:-: " + _("At most %(n)s characters.", n=MAX_LABEL))
    if found.problems:
        return _result_page(found, label=label)
    activate = request.form.get("activate") == "1"
    try:
        done = processes.deploy_version(container().uow, found.files, by=current().code, label=label or None,
                                        activate=activate)
    except BundleInvalid as exc:
        found.problems.extend(exc.problems)
        return _result_page(found, label=label)
    flash(_published(done), "success")
    return redirect(url_for(".version", version_id=done.version_id))


def _published(done: processes.Deployment) -> str:
    """What publishing did: a new version or the same files again, and whether new documents start on it."""
    if not done.new:
        said = _("These files are already version %(id)s; nothing new was published.", id=done.version_id)
    else:
        said = _("Published version %(id)s (%(sha)s).", id=done.version_id, sha=done.sha256[:12])
    if done.first:
        return said + " " + _("It is the first version, so it is active at once: new documents start on it.")
    if done.activated:
        return said + " " + _("It is active: new documents start on it; running ones keep theirs.")
    if done.active:
        return said + " " + _("It is the active version.")
    return said + " " + _("It is not active yet: new documents still start on the active version. "
                          "Activate it below when you are ready.")


def _checked(files: dict[str, str]) -> list[str]:
    """``bpmn check``'s findings, lanes judged by the imported data dictionary (as the deploy will)."""
    with container().reader() as uow:
        lanes = known_lanes(uow)
    return check(files, lanes=lanes)


def _result_page(found: Upload, *, label: str) -> ResponseReturnValue:
    problems = found.problems + (_checked(found.files) if found.files and not found.problems else [])
    result: dict[str, Any] = {
        "files": sorted(found.files), "ignored": found.ignored, "problems": [_split(p) for p in problems],
        "ok": not problems, "bundle": pack(found.files) if not problems else "",
        "sha": content_hash(found.files) if not problems else "", "label": label[:MAX_LABEL],
    }
    return render_template("processes/upload.html", result=result,
                           may_publish=current().has(DESIGNER)), 200 if not problems else 422


def _split(problem: str) -> dict[str, str]:
    """``file:element-id: message`` into its parts for the table (a line without them stays whole)."""
    parts = problem.split(":", 2)
    if len(parts) == 3:
        return {"file": parts[0], "element": parts[1].strip(), "message": parts[2].strip()}
    return {"file": "", "element": "", "message": problem}
