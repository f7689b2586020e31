"""Template helpers of the pages: a label in the reader's language, how long ago, which pages exist."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app
from flask_babel import format_timedelta
from markupsafe import Markup

from web import bilingual, diagram, instructions
from web.i18n import language


def pick(text: str | None) -> str:
    """The reader's half of a bilingual label from a diagram or form schema."""
    return bilingual.pick(text, language())


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in the reader's language ("3 hours", "3小时")."""
    if moment is None:
        return ""
    now = now or datetime.now(UTC)
    return format_timedelta(now - moment, threshold=1.1)


def overdue(moment: datetime | None, now: datetime | None = None) -> bool:
    return moment is not None and moment < (now or datetime.now(UTC))


def has_endpoint(name: str) -> bool:
    """Whether the app serves ``name`` (another helper's page may not be registered yet)."""
    return name in current_app.view_functions


def process_picture(picture: Any, prefix: str = "pic") -> Markup | None:
    """The document's process as marked SVG (engine ``Picture``), or None when there is nothing to draw."""
    if picture is None or not picture.bpmn_xml:
        return None
    marks = diagram.Marks.of(picture.completed, picture.current, picture.taken_flows)
    try:
        return diagram.render(picture.bpmn_xml, picture.process_id, marks=marks, language=language(), prefix=prefix)
    except diagram.DiagramUnavailable:
        return None


def step_names(picture: Any) -> dict[str, str]:
    """bpmn id -> step name in the reader's language, from the document's diagram (empty without one)."""
    if picture is None or not picture.bpmn_xml:
        return {}
    return diagram.element_names(picture.bpmn_xml, language())


def named_steps(steps: Any, names: dict[str, str]) -> list[str]:
    """The diagram steps of an engine pass, by name; the engine's internal steps (``x.BoundaryEventSplit``,
    a called process's own steps) are left out."""
    if not isinstance(steps, list):
        return []
    tasks = (s.get("task") for s in steps if isinstance(s, dict))
    return list(dict.fromkeys(names[t] for t in tasks if t in names))


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(pick=pick, age=age, overdue=overdue, named_steps=named_steps,
                                 instructions=instructions.render)

    @app.context_processor
    def _helpers() -> dict[str, Any]:
        return {"has_endpoint": has_endpoint, "process_picture": process_picture, "step_names": step_names}
