"""``budgetflow import-master-data PATH`` and ``budgetflow seed demo``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from engine.bootstrap import Container
from engine.cli.base import command
from engine.cli.context import App, pass_app
from engine.cli.help_format import fit
from engine.cli.i18n import N_, _
from engine.cli.output import emit_json, json_option, note, progress, say
from engine.config import redact_url
from engine.domain.errors import MasterDataInvalid
from engine.domain.masterdata.records import ImportSummary
from engine.persistence import schema
from engine.seed import demo_folder
from engine.services import read_models
from engine.services.masterdata.folder import ReadLimits
from engine.services.masterdata.importing import IMPORT_STEPS, import_master_data

LABELS = {"currencies": N_("currencies"), "org_units": N_("org units"), "employees": N_("employees"),
          "expense_subjects": N_("expense subjects"), "cost_centers": N_("cost centers"),
          "budget_lines": N_("budget lines"), "oa_forms": N_("OA forms"), "posting_rules": N_("posting rules"),
          "lanes": N_("lanes")}


@command("import-master-data", examples=("budgetflow import-master-data ./dictionary-2026",
                                         "budgetflow import-master-data ./dictionary-2026 --json"))
@click.argument("path", type=click.Path(path_type=Path), metavar="PATH")
@json_option
@pass_app
def import_command(app: App, path: Path, as_json: bool) -> int:
    """Validate a data-dictionary folder and import it, all or nothing.

    PATH is a folder with manifest.toml and the CSV files (docs/master-data.md). Every problem
    is listed as file:row:column: message, and then nothing is imported (exit 1).
    """
    if not _schema_is_current(app):
        return 2
    return import_folder(app.container, path, as_json=as_json)


@command("seed", examples=("budgetflow seed demo",))
@click.argument("dataset", type=click.Choice(["demo"]))
@json_option
@pass_app
def seed(app: App, dataset: str, as_json: bool) -> int:
    """Load shipped sample data; creates the schema if needed.

    demo: a Chinese demo company (青禾智造) with FY2026 budgets. Running it again changes nothing.
    """
    schema.upgrade(app.creating_container().engine)  # seeding is how people try budgetflow out: no separate init step
    return import_folder(app.container, demo_folder(), as_json=as_json)


def _schema_is_current(app: App) -> bool:
    current, head = read_models.schema_revision(app.reader), schema.head_revision()
    if current == head:
        return True
    where = redact_url(app.settings.database_url)
    if current is None:
        line = _("the database {where} has no budgetflow tables; run `budgetflow init` first")
    else:
        line = _("the database {where} is at schema revision {current}, not {head}; run `budgetflow init` first")
    note(_("error: {message}").format(message=line.format(where=where, current=current, head=head)))
    return False


def import_folder(container: Container, path: Path, *, as_json: bool = False, quiet: bool = False) -> int:
    """Import a dictionary folder; the summary (or every problem) is reported. Returns the exit code."""
    try:
        settings = container.settings
        limits = ReadLimits(settings.masterdata_max_bytes, settings.masterdata_max_total_bytes)
        with progress(IMPORT_STEPS, _("importing master data"), as_json=as_json or quiet) as advance:
            summary = import_master_data(path, container.masterdata_store, limits=limits, step=lambda: advance(1))
    except MasterDataInvalid as exc:
        for problem in exc.problems:
            note(problem)
        note(_("{count} problem(s) in {path}; nothing was imported").format(count=len(exc.problems), path=path))
        if as_json:
            emit_json({"imported": False, "source": str(path), "problems": exc.problems})
        return 1
    if as_json:
        emit_json(summary_json(summary, path))
    elif quiet:  # a step of a bigger command: its first line is enough
        note(format_summary(summary, path).splitlines()[0])
    else:
        say(format_summary(summary, path))
    return 0


def summary_json(summary: ImportSummary, path: Path) -> dict[str, Any]:
    return {"imported": True, "changed": summary.changed, "version": summary.version, "company": summary.company,
            "source": str(path), "counts": {name: asdict(c) for name, c in summary.counts.items()},
            "allocations": summary.allocations, "adjustments": summary.adjustments,
            "oa_forms_removed": summary.oa_forms_removed, "posting_rules_removed": summary.posting_rules_removed}


def format_summary(summary: ImportSummary, path: Path) -> str:
    verdict = _("imported") if summary.changed else _("already up to date, nothing changed")
    lines = [_("master data {version} ({company}) from {path}: {verdict}").format(
        version=summary.version, company=summary.company, path=path, verdict=verdict)]
    for name, c in summary.counts.items():
        lines.append("  " + _("{label} {created} created {updated} updated {unchanged} unchanged").format(
            label=fit(_(LABELS[name]), 17), created=f"{c.created:>4}", updated=f"{c.updated:>4}",
            unchanged=f"{c.unchanged:>4}"))
    if summary.oa_forms_removed:
        lines.append("  " + _("{label} {removed} removed (no longer in oa_forms.csv)").format(
            label=fit(_(LABELS["oa_forms"]), 17), removed=f"{summary.oa_forms_removed:>4}"))
    if summary.posting_rules_removed:
        lines.append("  " + _("{label} {removed} removed (no longer in posting_rules.csv)").format(
            label=fit(_(LABELS["posting_rules"]), 17), removed=f"{summary.posting_rules_removed:>4}"))
    lines.append("  " + _("{label} {allocations} ALLOCATE and {adjustments} ADJUST entries").format(
        label=fit(_("budget ledger"), 17), allocations=f"{summary.allocations:>4}", adjustments=summary.adjustments))
    return "\n".join(lines)


def register(cli: click.Group) -> None:
    cli.add_command(import_command)
    cli.add_command(seed)
