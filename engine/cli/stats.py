"""``budgetflow stats``: per BPMN element of a model version, how many passed, how long they waited, how many wait
now, and how often each way out of a gateway was taken (engine/services/step_stats.py says how it is counted)."""

from __future__ import annotations

import click

from engine.cli.base import command
from engine.cli.context import App, pass_app
from engine.cli.help_format import fit, shorten
from engine.cli.i18n import N_, _
from engine.cli.output import emit_json, json_option, say
from engine.services import step_stats
from engine.services.step_stats import ElementStats, FlowStats, VersionStats

KIND_WORDS = {"userTask": N_("user task"), "manualTask": N_("manual task"), "serviceTask": N_("service task"),
              "scriptTask": N_("script task"), "businessRuleTask": N_("business rule"),
              "callActivity": N_("call activity"), "subProcess": N_("subprocess"), "startEvent": N_("start"),
              "endEvent": N_("end"), "boundaryEvent": N_("boundary event"),
              "intermediateCatchEvent": N_("catch event"), "intermediateThrowEvent": N_("throw event"),
              "exclusiveGateway": N_("gateway"), "parallelGateway": N_("parallel gateway"),
              "inclusiveGateway": N_("inclusive gateway"), "eventBasedGateway": N_("event gateway")}
ID_WIDTH = 34


@command("stats", examples=("budgetflow stats", "budgetflow stats --version 3",
                            "budgetflow stats --version 3 --process travel_application --json"))
@click.option("--version", "version_id", type=int, help=N_("model version number (default: every version)"))
@click.option("--process", "process_id", help=N_("only instances of this process id (and what it calls)"))
@json_option
@pass_app
def stats(app: App, version_id: int | None, process_id: str | None, as_json: bool) -> int:
    """Step statistics per diagram element: passed, median and p95 wait, waiting now, paths taken.

    A wait runs from the element becoming ready to its completion (user tasks: from the task opening in the
    inbox to its completion). p95 is the nearest-rank 95th percentile. Each way out of a gateway shows how
    often it was taken and its share of the gateway's passes.
    """
    try:
        found = step_stats.version_stats(app.reader, version_id=version_id, process_id=process_id)
    except step_stats.UnknownVersion:
        raise click.BadParameter(_("there is no model version {number}; budgetflow bpmn list shows those deployed")
                                 .format(number=version_id), param_hint="--version") from None
    if as_json:
        emit_json({"versions": [v.as_dict() for v in found]})
        return 0
    if not found:
        say(_("no model version is deployed yet"))
    for one in found:
        _print_version(one, process_id)
    return 0


def _print_version(one: VersionStats, chosen: str | None) -> None:
    say(_("version {id} ({sha}): {count} instance(s)").format(id=one.version_id, sha=one.sha256[:12],
                                                               count=one.instances))
    if one.unreadable:
        say("  " + _("{count} instance(s) left out: their stored state cannot be read").format(count=one.unreadable))
    shown = dict.fromkeys(e.process_id for e in one.elements)
    for process_id in sorted(shown, key=lambda p: p != chosen):  # the chosen process first, then what it calls
        elements = [e for e in one.elements if e.process_id == process_id]
        if not any(e.passes or e.waiting_now for e in elements):
            continue  # no instance of this version ever ran in it
        say("")
        say(_("process {id}").format(id=process_id))
        say("  " + _header())
        for element in elements:
            say("  " + _row(element))
            for flow in (f for f in one.flows if (f.process_id, f.gateway) == (process_id, element.element_id)):
                say("  " + _flow_row(flow))
    say("")


def _header() -> str:
    return " ".join((fit(_("element"), ID_WIDTH), fit(_("kind"), 18), fit(_("passed"), 7, right=True),
                     fit(_("median wait"), 12, right=True), fit(_("p95 wait"), 12, right=True),
                     fit(_("waiting now"), 12, right=True)))


def _row(e: ElementStats) -> str:
    kind = _(KIND_WORDS[e.kind]) if e.kind in KIND_WORDS else e.kind
    return " ".join((fit(shorten(e.element_id, ID_WIDTH), ID_WIDTH), fit(kind, 18), f"{e.passed:>7}",
                     fit(duration(e.median_wait), 12, right=True), fit(duration(e.p95_wait), 12, right=True),
                     f"{e.waiting_now:>12}"))


def _flow_row(f: FlowStats) -> str:
    label = "  → " + shorten(f.target + (f" [{f.name}]" if f.name else ""), ID_WIDTH - 4)
    share = "-" if f.share is None else f"{f.share * 100:.1f}%"
    return " ".join((fit(label, ID_WIDTH), fit(_("taken"), 18), f"{f.taken:>7}", fit(share, 12, right=True)))


def duration(seconds: float | None) -> str:
    """A wait as a person reads it: 850 ms, 12.5 s, 7 min, 3 h 05 min, 2 d 4 h; "-" for none."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return _("{n} ms").format(n=round(seconds * 1000))
    if seconds < 60:
        return _("{n} s").format(n=f"{seconds:.1f}")
    minutes = int(seconds // 60)
    if minutes < 60:
        return _("{n} min").format(n=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("{h} h {m:02d} min").format(h=hours, m=minutes)
    days, hours = divmod(hours, 24)
    return _("{d} d {h} h").format(d=days, h=hours)


def register(cli: click.Group) -> None:
    cli.add_command(stats)
