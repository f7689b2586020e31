"""Step statistics of one version, drawn on its diagrams: a figure box per element (passed, median wait,
waiting now) and each gateway's share on its ways out, with the same figures in tables below for everyone who
does not read pictures (engine/services/step_stats.py counts them; docs/web-admin.md shows the page)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup

from engine.services import read_models, step_stats
from engine.services.step_stats import ElementStats, FlowStats, VersionStats
from web.bilingual import pick
from web.budget_pages.access import roles_required
from web.context import container
from web.diagram import DiagramUnavailable, Overlay, render
from web.i18n import language
from web.process_pages.blueprint import VIEWERS, bp


@dataclass(frozen=True)
class ProcessFigures:
    process_id: str
    picture: Markup | None
    elements: list[ElementStats]
    flows: list[FlowStats]


@bp.get("/versions/<int:version_id>/stats")
@roles_required(*VIEWERS)
def version_stats(version_id: int) -> ResponseReturnValue:
    reader = container().reader
    try:
        (found,) = step_stats.version_stats(reader, version_id=version_id)
    except step_stats.UnknownVersion:
        abort(404)
    files = read_models.version_files(reader, version_id) or {}
    processes = [_process(files, found, p, n) for n, p in enumerate(dict.fromkeys(e.process_id
                                                                                 for e in found.elements))]
    return render_template("processes/stats.html", version=found, processes=processes, wait=wait_text,
                           label=lambda text, fallback: pick(text, language()) or fallback, kind=kind_text)


def _process(files: dict[str, str], found: VersionStats, process_id: str, number: int) -> ProcessFigures:
    elements = [e for e in found.elements if e.process_id == process_id]
    flows = [f for f in found.flows if f.process_id == process_id]
    overlay = Overlay(nodes={e.element_id: _figure_lines(e) for e in elements if e.passes or e.waiting_now},
                      flows={f.flow_id: _share_text(f) for f in flows if f.share is not None})
    return ProcessFigures(process_id, _picture(files, process_id, number, overlay), elements, flows)


def _picture(files: dict[str, str], process_id: str, number: int, overlay: Overlay) -> Markup | None:
    """The process drawn with its figures, from the first diagram file that holds it (None: nothing to draw)."""
    for name, text in sorted(files.items()):
        if name.endswith(".bpmn") and f'id="{process_id}"' in text:
            try:
                return render(text, process_id, language=language(), prefix=f"s{number}", overlay=overlay)
            except DiagramUnavailable:
                continue
    return None


def _figure_lines(e: ElementStats) -> list[str]:
    lines = [_("%(n)s passed", n=e.passed)]
    if e.median_wait is not None:
        lines.append(_("median %(wait)s", wait=wait_text(e.median_wait)))
    if e.waiting_now:
        lines.append(_("%(n)s waiting now", n=e.waiting_now))
    return lines


def _share_text(f: FlowStats) -> str:
    return f"{f.taken} · {share_text(f.share)}"


def share_text(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.1f}%"


def wait_text(seconds: float | None) -> str:
    """A wait as a person reads it: 850 ms, 12.5 s, 7 min, 3 h 05 min, 2 d 4 h; "-" for none."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return _("%(n)s ms", n=round(seconds * 1000))
    if seconds < 60:
        tenths = round(seconds, 1)
        return _("%(n)s s", n=tenths)
    minutes = int(seconds // 60)
    if minutes < 60:
        return _("%(n)s min", n=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)s h %(m)s min", h=hours, m=str(minutes).zfill(2))
    days, hours = divmod(hours, 24)
    return _("%(d)s d %(h)s h", d=days, h=hours)


def kind_text(kind: str) -> str:
    words = {"userTask": _("user task"), "manualTask": _("manual task"), "serviceTask": _("service task"),
             "scriptTask": _("script task"), "businessRuleTask": _("business rule"),
             "callActivity": _("call activity"), "subProcess": _("subprocess"), "startEvent": _("start event"),
             "endEvent": _("end event"), "boundaryEvent": _("boundary event"),
             "intermediateCatchEvent": _("catch event"), "intermediateThrowEvent": _("throw event"),
             "exclusiveGateway": _("gateway"), "parallelGateway": _("parallel gateway"),
             "inclusiveGateway": _("inclusive gateway"), "eventBasedGateway": _("event gateway")}
    return words.get(kind, kind)
