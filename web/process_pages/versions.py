"""Deployed model versions, newest first, with how many documents run on each; one version's diagrams."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from flask import Response, abort, render_template
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from engine.services import read_models
from web.budget_pages.access import roles_required
from web.context import container
from web.diagram import DiagramUnavailable, render
from web.i18n import language
from web.process_pages.blueprint import VIEWERS, bp


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
    """Process id -> the version new documents of it start on (the latest that holds it)."""
    current: dict[str, int] = {}
    for v in found:  # oldest first: later versions overwrite
        for process_id in _shown(v)["processes"]:
            current[process_id] = v["id"]
    return current
