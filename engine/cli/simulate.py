"""``budgetflow simulate``: a population's requests through a folder of diagrams, on a virtual clock.

It checks the folder (``--bpmn DIR``, default the shipped diagrams) and the population file
(``--population FILE``, laid over engine/seed/simulation/population.yaml) before anything is
written, deploys exactly that folder and runs on the version it prints (every instance's version
is verified afterwards). By default it runs in a throwaway SQLite database in a temporary folder, with the demo
company imported there and its own audit key, and removes it afterwards (``--keep DIR``
keeps it): the configured database is never touched. ``--into-configured-database`` runs
in the configured database instead, and only if that holds nothing but the demo company
(engine/services/simulation_target.py).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from engine.audit_anchoring import anchor_store, row_source
from engine.bootstrap import Container
from engine.cli.base import command
from engine.cli.context import App, pass_app
from engine.cli.diagram_lanes import lanes_of
from engine.cli.i18n import N_, _
from engine.cli.masterdata import import_folder
from engine.cli.output import emit_json, json_option, note, progress
from engine.cli.scratch_db import scratch_database
from engine.cli.simulate_report import print_report, report_json
from engine.config import SHIPPED_BPMN, redact_url
from engine.persistence import schema
from engine.persistence.audit_anchor_file import AnchorFile
from engine.seed import demo_folder
from engine.services import processes, read_models
from engine.services.audit import verify_anchored
from engine.services.masterdata.folder import ReadLimits
from engine.services.simulation_target import NotTheDemo, refuse_unless_demo_only
from engine.simulation import Population, PopulationInvalid, Simulator, figures, load_population
from engine.workflow.bundle import DIAGRAM_SUFFIXES, read_folder
from engine.workflow.check import check

DEMO_PUBLISHER = "E0016"  # the demo company's process admin deploys the diagrams


@dataclass(frozen=True)
class Target:
    container: Container
    anchor: AnchorFile
    throwaway: bool
    folder: Path | None  # the throwaway database's folder
    kept: bool


@command("simulate", examples=("budgetflow simulate --claims 20", "budgetflow simulate --claims 500 --keep ./sim",
                               "budgetflow simulate --bpmn ./draft --population ./slow-approvers.yaml",
                               "budgetflow simulate --into-configured-database"))
@click.option("--claims", type=click.IntRange(min=1), default=20,
              help=N_("how many requests arrive (travel applications, each followed by its expense claim "
                      "once approved, by the population's mix; default 20)"))
@click.option("--seed", type=int, default=2026, help=N_("random seed of the simulated people (default 2026)"))
@click.option("--bpmn", "bpmn_folder", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=SHIPPED_BPMN, help=N_("folder of diagrams to check, deploy and run, e.g. a draft "
                                            "(default: the shipped diagrams)"))
@click.option("--population", "population_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help=N_("population file (YAML or JSON): request mix, amounts, applicants, form fields, each "
                      "lane's decisions and response times, business hours (default: the demo company's)"))
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help=N_("run in DIR and keep the database there instead of removing it"))
@click.option("--into-configured-database", "into_configured", is_flag=True,
              help=N_("run in the configured database; refused unless it holds only the demo company"))
@click.option("--dictionary", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR",
              help=N_("data-dictionary folder to import into the throwaway database (default: the demo company's)"))
@json_option
@pass_app
def simulate(app: App, claims: int, seed: int, bpmn_folder: Path, population_file: Path | None, keep: Path | None,
             into_configured: bool, dictionary: Path | None, as_json: bool) -> int:
    """Run travel applications (TA) and expense claims (EC) of the demo company through the diagrams.

    The folder (--bpmn) is checked as `bpmn check` does and deployed; the version printed is the one
    every instance runs on. People act as the population file says, within business hours, on a
    virtual clock: reminders and SLA escalations fire as they would, and the report gives cycle
    times in working hours and calendar days, waits per step and budget use. By default in a
    throwaway SQLite database with the demo company (removed afterwards): the configured database
    is not touched. The report gives this run's figures apart from the database's totals.
    """
    if keep and into_configured:
        raise click.UsageError(_("--keep and --into-configured-database exclude each other"))
    if dictionary and into_configured:
        raise click.UsageError(_("--dictionary and --into-configured-database exclude each other"))
    dictionary = dictionary or demo_folder()
    prepared = _prepare(bpmn_folder, population_file, lanes_of(app, dictionary))
    if prepared is None:
        return 1
    files, population = prepared
    try:
        with _target(app, keep, into_configured) as target:
            return _run(target, claims=claims, seed=seed, bpmn_folder=bpmn_folder, files=files,
                        population=population, dictionary=dictionary, as_json=as_json)
    except NotTheDemo as refused:
        note(_("error: simulate will not write into {url}: {reason}. Nothing was changed; run it without "
               "--into-configured-database to use a throwaway database").format(
            url=redact_url(app.settings.database_url), reason=refused))
        return 1


def _prepare(bpmn_folder: Path, population_file: Path | None,
             lanes: dict[str, str]) -> tuple[dict[str, str], Population] | None:
    """The diagrams and the population, both checked before anything is written; None after saying why."""
    files = read_folder(bpmn_folder)
    if not any(Path(name).suffix in DIAGRAM_SUFFIXES for name in files):
        note(_("error: {path} holds no .bpmn or .dmn file; nothing was simulated").format(path=bpmn_folder))
        return None
    problems = check(files, lanes=lanes)
    for problem in problems:
        note(problem)
    if problems:
        note(_("nothing was simulated: fix the problems above (budgetflow bpmn check {path})").format(
            path=bpmn_folder))
        return None
    try:
        return files, load_population(population_file)
    except PopulationInvalid as invalid:
        for problem in invalid.problems:
            note(problem)
        note(_("nothing was simulated: fix the population file"))
        return None


@contextmanager
def _target(app: App, keep: Path | None, into_configured: bool) -> Iterator[Target]:
    if into_configured:
        _refuse_unless_demo_only(app)
        yield Target(app.container, anchor_store(app.settings), throwaway=False, folder=None, kept=False)
        return
    with scratch_database(app.settings, keep=keep, prefix="budgetflow-simulate-") as scratch:
        yield Target(scratch.container, scratch.anchor, throwaway=True, folder=scratch.folder, kept=scratch.kept)


def _refuse_unless_demo_only(app: App) -> None:
    revision, head = read_models.schema_revision(app.reader), schema.head_revision()
    if revision is None:
        return  # no budgetflow tables yet: nothing of a company's to protect
    if revision != head:
        raise NotTheDemo(f"its schema is at revision {revision}, not {head}; run `budgetflow init` first")
    settings = app.settings
    limits = ReadLimits(settings.masterdata_max_bytes, settings.masterdata_max_total_bytes)
    refuse_unless_demo_only(app.reader, app.container.masterdata_store, demo_folder(), limits)


def _run(target: Target, *, claims: int, seed: int, bpmn_folder: Path, files: dict[str, str],
         population: Population, dictionary: Path, as_json: bool) -> int:
    container = target.container
    where = (_("a throwaway database in {folder}").format(folder=target.folder) if target.throwaway
             else redact_url(container.settings.database_url))
    note(_("simulate: {where}").format(where=where))
    schema.upgrade(container.engine)
    fresh_log = read_models.audit_row_count(container.reader) == 0
    if import_folder(container, dictionary, quiet=True) != 0:
        return 1
    version_id, sha = processes.deploy(container.uow, files, by=DEMO_PUBLISHER, label="simulate")
    note(_("model version {id} ({sha}) from {path}; simulating {claims} requests with {population} ...").format(
        id=version_id, sha=sha[:12], path=bpmn_folder, claims=claims, population=population.source))
    rng = random.Random(seed)  # noqa: S311 - a seeded, repeatable simulation, not security
    with progress(claims, _("simulating"), as_json=as_json) as advance:
        try:
            report = Simulator(container, population, rng, files).run(claims, progress=advance)
        except PopulationInvalid as invalid:
            for problem in invalid.problems:
                note(problem)
            note(_("nothing was simulated: fix the population file"))
            return 1
    if report.model_shas - {sha}:  # another version started them: the figures would not be this folder's
        note(_("error: instances of this run started on another model version than {id}; see `budgetflow bpmn "
               "list`").format(id=version_id))
        return 1
    # The whole chain, against the stored anchor, which then moves to the new head (docs/audit.md).
    anchored = verify_anchored(row_source(container), container.audit_key(), target.anchor)
    for line in anchored.notes:
        if not (fresh_log and "there was no audit anchor" in line):  # this run wrote every row it anchors
            note(line)
    this_run, totals = figures(container.reader, report.documents), figures(container.reader, None)
    ledger_ok = read_models.ledger_check(container.reader).ok
    facts: dict[str, Any] = {
        "database": {"throwaway": target.throwaway, "url": redact_url(container.settings.database_url),
                     "kept_in": str(target.folder) if target.kept else None},
        "model_version": {"id": version_id, "sha256": sha, "folder": str(bpmn_folder)}, "claims": claims,
        "seed": seed, "population": population.source,
        "ledger_ok": ledger_ok, "audit_ok": anchored.result.ok,
    }
    if as_json:
        emit_json(report_json(facts, report, this_run, totals))
    else:
        print_report(facts, report, this_run, totals)
    return 0 if ledger_ok and anchored.result.ok else 1


def register(cli: click.Group) -> None:
    cli.add_command(simulate)
