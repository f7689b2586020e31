"""``budgetflow bpmn lanes``: the lanes a diagram may use, each with its rules, fallback and description.

The lanes come from the imported data dictionary's ``lanes.csv``; without one, the built-in lanes apply and
the command says so (docs/master-data.md "lanes.csv", bpmn/README.md §12 "Lanes").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from engine.cli.base import command
from engine.cli.context import App, pass_app
from engine.cli.diagram_lanes import LaneSource, lane_source
from engine.cli.i18n import N_, _
from engine.cli.output import emit_json, json_option, say
from engine.cli.workflow import bpmn
from engine.domain.lanes import FALLBACKS, RULES, LaneRule, lanes_of


@command("lanes", examples=("budgetflow bpmn lanes", "budgetflow bpmn lanes --json",
                            "budgetflow bpmn lanes --dictionary ./my-dictionary"))
@click.option("--dictionary", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR",
              help=N_("data-dictionary folder to read lanes.csv from (default: the configured database's "
                      "imported dictionary, else the built-in lanes)"))
@json_option
@pass_app
def lanes_command(app: App, dictionary: Path | None, as_json: bool) -> int:
    """List the lanes diagrams may use: who each resolves to, its fallback and description.

    The lanes are the data dictionary's (lanes.csv); a built-in lane it does not name keeps its rules.
    """
    source = lane_source(app, dictionary)
    declared = source.from_dictionary
    lanes = lanes_of(source.rules)
    if as_json:
        emit_json({"source": "dictionary" if declared else "built-in", "read_from": source.where,
                   "lanes": [{**_lane_json(name, rows), "source": "dictionary" if name in declared else "built-in"}
                             for name, rows in lanes.items()],
                   "rules": {name: text for name, (_kind, text) in RULES.items()},
                   "fallbacks": {name or "none": text for name, text in FALLBACKS.items()}})
        return 0
    say(_heading(source, dictionary))
    for name, rows in lanes.items():
        built_in = bool(declared) and name not in declared
        say(f"  {name}: {rows[0].description}" + (" " + _("(built-in)") if built_in else ""))
        if rows[0].skip_prior_approvers:
            say("    " + _("skips whoever approved this document earlier in the same round"))
        for position, row in enumerate(rows, start=1):
            say(f"    {position}. {_rule_text(row)}")
    return 0


def _heading(source: LaneSource, dictionary: Path | None) -> str:
    if source.where == "folder":
        return (_("lanes of the data dictionary in {path} (lanes.csv):") if source.from_dictionary
                else _("built-in lanes ({path} has no lanes.csv):")).format(path=dictionary)
    if source.where == "built-in":
        return _("built-in lanes (no database is set up here; --dictionary DIR reads a dictionary folder):")
    return (_("lanes of the imported data dictionary (lanes.csv):") if source.from_dictionary
            else _("built-in lanes (the imported data dictionary has no lanes.csv):"))


def _rule_text(row: LaneRule) -> str:
    rule = f"{row.rule} {row.parameter}" if row.parameter else row.rule
    fallback = row.fallback or _("nobody (listed for reassignment)")
    return _("{rule}; if nobody: {fallback}").format(rule=rule, fallback=fallback)


def _lane_json(name: str, rows: list[LaneRule]) -> dict[str, Any]:
    return {"name": name, "description": rows[0].description,
            "skip_prior_approvers": rows[0].skip_prior_approvers,
            "rules": [{"rule": r.rule, "parameter": r.parameter, "fallback": r.fallback or None} for r in rows]}


def register(cli: click.Group) -> None:
    """Adds ``lanes`` to the ``bpmn`` group of engine.cli.workflow (registered before this module)."""
    assert cli.commands.get("bpmn") is bpmn
    bpmn.add_command(lanes_command)
