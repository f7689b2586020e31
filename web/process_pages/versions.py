"""Deployed model versions, newest first, with how many documents run on each and which is active; one
version's diagrams, and the designer's "Activate" (what new documents start on; a rollback is an older one)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from flask import Response, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup

from engine.services import processes, read_models
from web.budget_pages.access import current, roles_required
from web.context import container
from web.diagram import DiagramUnavailable, render
from web.i18n import language
from web.process_pages.blueprint import DESIGNER, VIEWERS, bp


@bp.get("")
@roles_required(*VIEWERS)
def versions() -> ResponseReturnValue:
    found = read_models.model_versions(container().reader)
    return render_template("processes/versions.html", versions=[_shown(v) for v in reversed(found)],
                           current=_current_versions(found))


@bp.get("/versions/<int:version_id>")
@roles_required(*VIEWERS)
def version(version_id: int) -> ResponseReturnValue:
    found = read_models.model_versions(container().reader)
    chosen = next((v for v in found if v["id"] == version_id), None)
    files = read_models.version_files(container().reader, version_id)
    if chosen is None or files is None:
        abort(404)
    shown = _shown(chosen)
    return render_template("processes/version.html", version=shown, current=_current_versions(found),
                           may_activate=current().has(DESIGNER),
                           files=[(name, len(text.encode("utf-8"))) for name, text in sorted(files.items())],
                           pictures={p: _picture(files, p, n) for n, p in enumerate(shown["processes"])})


@bp.get("/versions/<int:version_id>/bundle.zip")
@roles_required(*VIEWERS)
def bundle(version_id: int) -> ResponseReturnValue:
    """The version's files as a zip: what a designer edits and uploads again as the next version."""
    files = read_models.version_files(container().reader, version_id)
    if files is None:
        abort(404)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in sorted(files.items()):
            archive.writestr(name, text)
    return Response(buffer.getvalue(), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="budgetflow-version-{version_id}.zip"'})


def _picture(files: dict[str, str], process_id: str, number: int) -> Markup | None:
    """The process drawn from the first diagram file that holds it (None: no diagram interchange for it)."""
    for name, text in sorted(files.items()):
        if name.endswith(".bpmn") and f'id="{process_id}"' in text:
            try:
                return render(text, process_id, language=language(), prefix=f"v{number}")
            except DiagramUnavailable:
                continue
    return None


def _shown(version: dict[str, Any]) -> dict[str, Any]:
    return {**version, "processes": [p for p in str(version["process_ids"] or "").split(",") if p]}


def _current_versions(found: list[dict[str, Any]]) -> dict[str, int]:
    """Process id -> the version new documents of it start on (its active version)."""
    return {process_id: v["id"] for v in found for process_id in v["active_for"]}


@bp.post("/versions/<int:version_id>/activate")
@roles_required(DESIGNER)
def activate(version_id: int) -> ResponseReturnValue:
    """Make this version what new documents start on (a rollback when it is an older one); audited."""
    if read_models.model_version(container().reader, version_id) is None:
        abort(404)
    if processes.activate(container().uow, version_id, by=current().code):
        flash(_("Version %(id)s is active: new documents start on it; running ones keep their version.",
                id=version_id), "success")
    else:
        flash(_("Version %(id)s was already active; nothing changed.", id=version_id), "success")
    return redirect(url_for(".version", version_id=version_id))
