"""Deployed model versions, newest first, with how many documents run on each; one version's processes."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template
from flask.typing import ResponseReturnValue

from engine.services import read_models
from web.budget_pages.access import roles_required
from web.context import container
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
    if chosen is None:
        abort(404)
    return render_template("processes/version.html", version=_shown(chosen), current=_current_versions(found))


def _shown(version: dict[str, Any]) -> dict[str, Any]:
    return {**version, "processes": [p for p in str(version["process_ids"] or "").split(",") if p]}


def _current_versions(found: list[dict[str, Any]]) -> dict[str, int]:
    """Process id -> the version new documents of it start on (the latest that holds it)."""
    current: dict[str, int] = {}
    for v in found:  # oldest first: later versions overwrite
        for process_id in _shown(v)["processes"]:
            current[process_id] = v["id"]
    return current
