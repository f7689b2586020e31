"""``budgetflow bpmn test`` (scenario files) and ``budgetflow bpmn replay`` (recorded instances on a draft).

Both run in a throwaway database (engine/cli/scratch_db.py) with a data dictionary imported: the
configured database is only read (replay reads its recorded inputs), never written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from engine.cli.base import command
from engine.cli.context import App, pass_app
from engine.cli.diagram_lanes import lanes_of
from engine.cli.i18n import N_, _
from engine.cli.masterdata import import_folder
from engine.cli.output import emit_json, json_option, note, say
from engine.cli.scratch_db import scratch_database
from engine.cli.workflow import bpmn
from engine.seed import demo_folder
from engine.services import replay as replays
from engine.services import scenarios as runner
from engine.services.drive import Driver
from engine.workflow.bundle import read_folder
from engine.workflow.check import check

folder_argument = click.argument("path", required=False, type=click.Path(path_type=Path))
DICTIONARY = click.Path(exists=True, file_okay=False, path_type=Path)


def _folder(app: App, path: Path | None) -> Path:
    folder = path or app.settings.bpmn_dir
    if not folder.is_dir():
        raise click.BadParameter(_("{path} is not a folder of diagrams").format(path=folder), param_hint="PATH")
    return folder


def _check_problems(files: dict[str, str], path: Path, lanes: dict[str, str]) -> list[str]:
    """``bpmn check`` first, with the lanes of the dictionary the run imports: a folder it refuses is not run
    (its problems are printed, and returned)."""
    problems = check(files, lanes=lanes)
    for problem in problems:
        note(problem)
    if problems:
        note(_("{path} fails bpmn check: fix the problems above first").format(path=path))
    return problems


@command("test", examples=("budgetflow bpmn test", "budgetflow bpmn test ./my-diagrams --json",
                           "budgetflow bpmn test ./my-diagrams --dictionary ./dictionary-2026"))
@folder_argument
@click.option("--dictionary", type=DICTIONARY, metavar="DIR",
              help=N_("data-dictionary folder to import into the throwaway database (default: the demo company's)"))
@json_option
@pass_app
def test_command(app: App, path: Path | None, dictionary: Path | None, as_json: bool) -> int:
    """Run the scenario files (*.scenario.yaml, *.scenario.json) beside the diagrams; exit 1 if any fails.

    The diagrams are checked and deployed in a throwaway database with the data dictionary imported, and
    every scenario runs through the real engine on a virtual clock. PATH as for `bpmn check`.
    """
    folder = _folder(app, path)
    scenarios, problems = runner.load_scenarios(folder)
    if not scenarios and not problems:
        problems = [_("{path}: no scenario files (*.scenario.yaml, *.scenario.json)").format(path=folder)]
    files = read_folder(folder)
    for problem in problems:
        note(problem)
    problems += _check_problems(files, folder, lanes_of(app, dictionary or demo_folder()))
    if problems:
        if as_json:
            emit_json({"ok": False, "path": str(folder), "problems": problems, "scenarios": []})
        return 1
    with scratch_database(app.settings, prefix="budgetflow-bpmn-test-") as scratch:
        container = scratch.container
        if import_folder(container, dictionary or demo_folder(), quiet=True) != 0:
            return 1
        runner.deploy(container.uow, files)
        driver = Driver(container.uow, container.job_runner(), container.retry_policy(), runner.clock_start())
        results = runner.run_scenarios(driver, scenarios)
    failed = [r for r in results if not r.passed]
    if as_json:
        emit_json({"ok": not failed, "path": str(folder), "problems": [], "passed": len(results) - len(failed),
                   "failed": len(failed), "scenarios": [r.to_json() for r in results]})
    else:
        for r in results:
            say(f"PASS {r.file}:{r.name}" if r.passed else f"FAIL {r.file}:{r.name}: {r.difference}")
        say(_("bpmn test: {passed} passed, {failed} failed in {path}").format(
            passed=len(results) - len(failed), failed=len(failed), path=folder))
    return 1 if failed else 0


@command("replay", examples=("budgetflow bpmn replay ./draft", "budgetflow bpmn replay ./draft --since 2026-11-01",
                             "budgetflow bpmn replay ./draft --json"))
@click.argument("draft", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help=N_("only instances finished on or after this date (UTC)"))
@click.option("--dictionary", type=DICTIONARY, metavar="DIR",
              help=N_("data-dictionary folder for the throwaway database (default: the folder the configured "
                      "database last imported, if unchanged)"))
@json_option
@pass_app
def replay_command(app: App, draft: Path, since: datetime | None, dictionary: Path | None, as_json: bool) -> int:
    """Replay finished instances on a draft of the diagrams; list those whose route, approvers, reservation or
    outcome would differ.

    The recorded inputs (start data, forms, decisions, messages, timers) of every finished instance of the
    configured database run again, in order, on DRAFT in a throwaway database with the same data dictionary
    (the folder recorded as the last import's source unless --dictionary, refused if its content differs).
    Exit 0 when none differs, 1 when some do.
    """
    files = read_folder(draft)
    if not files:
        raise click.BadParameter(_("{path} holds no diagrams").format(path=draft), param_hint="DRAFT")
    source = replays.dictionary_of(app.reader, dictionary)
    problems = _check_problems(files, draft, lanes_of(app, source))
    if problems:
        if as_json:
            emit_json({"draft": str(draft), "problems": problems, "replayed": 0, "differ": 0, "instances": []})
        return 1
    since_utc = since.replace(tzinfo=UTC) if since else None
    with app.reader() as uow:
        recorded = replays.recorded_instances(uow, since_utc)
    note(_("replaying {count} finished instance(s) on {path} ...").format(count=len(recorded), path=draft))
    with scratch_database(app.settings, prefix="budgetflow-bpmn-replay-") as scratch:
        container = scratch.container
        if import_folder(container, source, quiet=True) != 0:
            return 1
        runner.deploy(container.uow, files)
        driver = Driver(container.uow, container.job_runner(), container.retry_policy(), runner.clock_start())
        found = replays.replay_all(driver, recorded)
    differing = [f for f in found if f.parting is not None]
    _report(found, differing, draft, as_json)
    return 1 if differing else 0


def _report(found: list[Any], differing: list[Any], draft: Path, as_json: bool) -> None:
    if as_json:
        emit_json({"draft": str(draft), "replayed": len(found), "differ": len(differing),
                   "instances": [f.to_json() for f in found]})
        return
    for f in differing:
        p = f.parting
        say(_("{document}: differs at {element} ({what}): recorded {recorded}, draft {draft}").format(
            document=f.business_key, element=p.element, what=p.what, recorded=p.recorded, draft=p.draft))
    say(_("bpmn replay: {differ} of {count} instance(s) would differ on {path}").format(
        differ=len(differing), count=len(found), path=draft))


def register(_cli: click.Group) -> None:
    bpmn.add_command(test_command)
    bpmn.add_command(replay_command)
