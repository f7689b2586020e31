"""``budgetflow bpmn check|deploy|list`` and ``budgetflow incidents list|retry``."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.base import group
from engine.cli.context import App, pass_app
from engine.cli.help_format import fit
from engine.cli.i18n import N_, _
from engine.cli.output import emit_json, json_option, note, say
from engine.services import instance_admin, processes, read_models
from engine.workflow.bundle import read_folder
from engine.workflow.check import check
from engine.workflow.errors import BundleInvalid

folder_argument = click.argument("path", required=False, type=click.Path(path_type=Path))


def _diagrams(app: App, path: Path | None) -> Path:
    """PATH, else BUDGETFLOW_BPMN_DIR, else the shipped diagrams; never whatever ./bpmn happens to be."""
    folder = path or app.settings.bpmn_dir
    if not folder.is_dir():
        raise click.BadParameter(_("{path} is not a folder of diagrams").format(path=folder), param_hint="PATH")
    return folder


@group("bpmn", examples=("budgetflow bpmn check ./my-diagrams", "budgetflow bpmn list"))
def bpmn() -> None:
    """Check, deploy and list process diagrams."""


@bpmn.command("check", examples=("budgetflow bpmn check", "budgetflow bpmn check ./my-diagrams --json"))
@folder_argument
@json_option
@pass_app
def check_command(app: App, path: Path | None, as_json: bool) -> int:
    """Validate diagrams; print file:element-id: message lines, exit 1 if any.

    PATH is a folder of .bpmn, .dmn and *.schema.json files (default: BUDGETFLOW_BPMN_DIR, else the shipped ones).
    """
    path = _diagrams(app, path)
    problems = check(read_folder(path))
    if as_json:
        emit_json({"ok": not problems, "path": str(path), "problems": problems})
    else:
        for problem in problems:
            say(problem)
        verdict = "OK" if not problems else _("{count} problem(s)").format(count=len(problems))
        say(_("bpmn check: {verdict} in {path}").format(verdict=verdict, path=path))
    return 1 if problems else 0


@bpmn.command("deploy", examples=("budgetflow bpmn deploy", 'budgetflow bpmn deploy ./my-diagrams --label "2026 Q3"'))
@folder_argument
@click.option("--by", default="admin", show_default=False, help=N_("employee code of the publisher (audited)"))
@click.option("--label", help=N_("a note for this version"))
@json_option
@pass_app
def deploy_command(app: App, path: Path | None, by: str, label: str | None, as_json: bool) -> int:
    """Publish a new model version; running instances keep theirs.

    Every `bpmn check` rule runs first: with any problem nothing is deployed (exit 1). PATH as for `bpmn check`.
    """
    path = _diagrams(app, path)
    try:
        version_id, sha = processes.deploy(app.uow, read_folder(path), by=by, label=label)
    except BundleInvalid as exc:
        for problem in exc.problems:
            note(problem)
        note(_("nothing deployed: fix the problems above (budgetflow bpmn check)"))
        return 1
    if as_json:
        emit_json({"version_id": version_id, "sha256": sha, "path": str(path), "label": label})
    else:
        say(_("deployed model version {id} ({sha}) from {path}").format(id=version_id, sha=sha[:12], path=path))
    return 0


@bpmn.command("list", examples=("budgetflow bpmn list", "budgetflow bpmn list --json"))
@json_option
@pass_app
def list_command(app: App, as_json: bool) -> int:
    """Model versions and how many instances run on each."""
    versions = read_models.model_versions(app.reader)
    if as_json:
        emit_json({"versions": versions})
        return 0
    say(f"{fit(_('version'), 7, right=True)}  {'sha256':<12}  {fit(_('instances'), 9, right=True)}  "
        f"{fit(_('deployed at'), 20)} {_('processes')}")
    for v in versions:
        say(f"{v['id']:>7}  {v['sha256'][:12]:<12}  {v['instances']:>9}  {v['deployed_at']:%Y-%m-%d %H:%M:%S}  "
            f"{v['process_ids']}{'  (' + v['label'] + ')' if v['label'] else ''}")
    return 0


@group("incidents", examples=("budgetflow incidents list", "budgetflow incidents retry 17 --by E0015"))
def incidents() -> None:
    """Connector jobs that gave up and instances whose step failed."""


@incidents.command("list", examples=("budgetflow incidents list", "budgetflow incidents list --json"))
@json_option
@pass_app
def incidents_list(app: App, as_json: bool) -> int:
    """Every open incident with its last error."""
    found = read_models.incidents(app.reader)
    if as_json:
        emit_json({"jobs": found.jobs, "instances": found.instances})
        return 0
    for r in found.jobs:
        say(f"job {r['id']:>6}  instance {r['instance_id']:>6}  {r['operator']:<18} attempts {r['attempts']:>2}  "
            f"{(r['last_error'] or '')[:120]}")
    for r in found.instances:
        say(f"instance {r['id']:>6}  {r['business_key']:<16} {r['process_id']:<20} {(r['last_error'] or '')[:120]}")
    say(_("{jobs} job incident(s) (retry: budgetflow incidents retry JOB_ID), {instances} instance incident(s) "
          "(budgetflow instances retry ID --by ADMIN, or instances cancel ID --by ADMIN --reason TEXT)").format(
        jobs=len(found.jobs), instances=len(found.instances)))
    return 0


@incidents.command("retry", examples=("budgetflow incidents retry 17 --by E0015",))
@click.argument("job_id", type=int)
@click.option("--by", default="admin", help=N_("employee code of the admin (audited)"))
@pass_app
def incidents_retry(app: App, job_id: int, by: str) -> int:
    """Put an incident's job back in the queue, attempts reset."""
    instance_admin.retry_job(app.uow, job_id=job_id, by=by)
    say(_("job {id} is queued again; the worker picks it up").format(id=job_id))
    return 0


def register(cli: click.Group) -> None:
    cli.add_command(bpmn)
    cli.add_command(incidents)
