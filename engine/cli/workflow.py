"""``budgetflow bpmn check|deploy|activate|list|diff`` and ``budgetflow incidents list|retry``."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.base import group
from engine.cli.context import App, pass_app
from engine.cli.diagram_lanes import lanes_for
from engine.cli.help_format import fit
from engine.cli.i18n import N_, _
from engine.cli.output import emit_json, json_option, note, say
from engine.services import instance_admin, processes, read_models
from engine.workflow.bundle import read_folder
from engine.workflow.check import check
from engine.workflow.diff import diff, lines
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
    """Check, deploy, activate, list and compare process diagrams."""


@bpmn.command("check", examples=("budgetflow bpmn check", "budgetflow bpmn check ./my-diagrams --json",
                                  "budgetflow bpmn check ./my-diagrams --dictionary ./my-dictionary"))
@folder_argument
@click.option("--dictionary", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR",
              help=N_("data-dictionary folder whose lanes the diagrams may use (default: the configured "
                      "database's imported dictionary, else the built-in lanes)"))
@json_option
@pass_app
def check_command(app: App, path: Path | None, dictionary: Path | None, as_json: bool) -> int:
    """Validate diagrams; print file:element-id: message lines, exit 1 if any.

    PATH is a folder of .bpmn, .dmn and *.schema.json files (default: BUDGETFLOW_BPMN_DIR, else the shipped ones).
    Lanes are judged by the data dictionary's lanes.csv (--dictionary, else the imported one).
    """
    path = _diagrams(app, path)
    problems = check(read_folder(path), lanes=lanes_for(app, dictionary))
    if as_json:
        emit_json({"ok": not problems, "path": str(path), "problems": problems})
    else:
        for problem in problems:
            say(problem)
        verdict = "OK" if not problems else _("{count} problem(s)").format(count=len(problems))
        say(_("bpmn check: {verdict} in {path}").format(verdict=verdict, path=path))
    return 1 if problems else 0


@bpmn.command("deploy", examples=("budgetflow bpmn deploy ./my-diagrams", "budgetflow bpmn deploy --activate",
                                   'budgetflow bpmn deploy ./my-diagrams --label "2026 Q3" --json'))
@folder_argument
@click.option("--by", default="admin", show_default=False, help=N_("employee code of the publisher (audited)"))
@click.option("--label", help=N_("a note for this version"))
@click.option("--activate", "and_activate", is_flag=True,
              help=N_("activate it too: new instances start on it at once"))
@json_option
@pass_app
def deploy_command(app: App, path: Path | None, by: str, label: str | None, and_activate: bool,
                   as_json: bool) -> int:
    """Store the diagrams as a model version; `bpmn activate` makes new instances start on it.

    Every `bpmn check` rule runs first: with any problem, or no .bpmn/.dmn file at all, nothing is deployed
    (exit 1). The first version of a database is activated at once; later ones wait for `bpmn activate`
    (or --activate). Files deployed before are not stored again: their version is named. PATH as for
    `bpmn check`.
    """
    path = _diagrams(app, path)
    files = read_folder(path)
    if not any(name.endswith((".bpmn", ".dmn")) for name in files):
        note(_("{path} holds no .bpmn or .dmn file: nothing deployed").format(path=path))
        return 1
    try:
        done = processes.deploy_version(app.uow, files, by=by, label=label, activate=and_activate)
    except BundleInvalid as exc:
        for problem in exc.problems:
            note(problem)
        note(_("nothing deployed: fix the problems above (budgetflow bpmn check)"))
        return 1
    if as_json:
        emit_json({"version_id": done.version_id, "new": done.new, "sha256": done.sha256, "path": str(path),
                   "label": label, "active": done.active, "activated": done.activated, "first": done.first})
        return 0
    say(_deployed_line(done, path))
    if done.first:
        say(_("activated at once: it is the first version of this database; new instances start on it"))
    elif done.activated:
        say(_("activated: new instances start on it; running ones keep their version"))
    elif not done.active:
        say(_("not active: new instances still start on the active version; activate it with "
              "`budgetflow bpmn activate {id}`").format(id=done.version_id))
    return 0


def _deployed_line(done: processes.Deployment, path: Path) -> str:
    if done.new:
        return _("deployed model version {id} ({sha}) from {path}").format(
            id=done.version_id, sha=done.sha256[:12], path=path)
    state = _("active") if done.active else _("inactive")
    return _("identical to version {id} (deployed at {at:%Y-%m-%d %H:%M:%S}, {state}): nothing new stored").format(
        id=done.version_id, at=done.deployed_at, state=state)


@bpmn.command("activate", examples=("budgetflow bpmn activate 3 --by E0016", "budgetflow bpmn activate 2 --json"))
@click.argument("version_id", metavar="VERSION", type=int)
@click.option("--by", default="admin", show_default=False, help=N_("employee code of who activates (audited)"))
@json_option
@pass_app
def activate_command(app: App, version_id: int, by: str, as_json: bool) -> int:
    """Choose what new instances start on: VERSION, for every process it holds.

    Rolling back is activating an older version. Instances already running keep the version they started on.
    Every activation is audited; activating the active version changes nothing.
    """
    before = {v["id"]: v for v in read_models.model_versions(app.reader)}
    changed = processes.activate(app.uow, version_id, by=by)
    version = read_models.model_version(app.reader, version_id) or before[version_id]
    replaced = sorted({other["id"] for other in before.values() if other["id"] != version_id
                       and set(other["active_for"]) & set(version["active_for"])})
    if as_json:
        emit_json({"version_id": version_id, "activated": changed, "processes": version["active_for"],
                   "replaced": replaced})
        return 0
    if not changed:
        say(_("version {id} is already active for {processes}; nothing changed").format(
            id=version_id, processes=", ".join(version["active_for"])))
        return 0
    say(_("version {id} is now active for {processes}: new instances start on it").format(
        id=version_id, processes=", ".join(version["active_for"])))
    if replaced:
        say(_("it replaces version(s) {ids}; instances running on them keep their version").format(
            ids=", ".join(map(str, replaced))))
    return 0


@bpmn.command("list", examples=("budgetflow bpmn list", "budgetflow bpmn list --json"))
@json_option
@pass_app
def list_command(app: App, as_json: bool) -> int:
    """Model versions: which is active for each process, and the instances on each (running / total)."""
    versions = read_models.model_versions(app.reader)
    if as_json:  # "active": process id -> the version its new instances start on
        emit_json({"versions": versions, "active": {p: v["id"] for v in versions for p in v["active_for"]}})
        return 0
    say(f"{fit(_('version'), 7, right=True)}  {'sha256':<12}  {fit(_('running'), 7, right=True)}  "
        f"{fit(_('total'), 7, right=True)}  {fit(_('deployed at'), 20)} {_('processes')}")
    for v in versions:
        active = set(v["active_for"])
        shown = ", ".join(p + (" " + _("[active]") if p in active else "")
                          for p in str(v["process_ids"]).split(",") if p)
        say(f"{v['id']:>7}  {v['sha256'][:12]:<12}  {v['running']:>7}  {v['instances']:>7}  "
            f"{v['deployed_at']:%Y-%m-%d %H:%M:%S}  {shown}{'  (' + v['label'] + ')' if v['label'] else ''}")
    if versions and not any(v["active_for"] for v in versions):
        say(_("no version is active: activate one with `budgetflow bpmn activate VERSION`"))
    return 0


@bpmn.command("diff", examples=("budgetflow bpmn diff 3 4", "budgetflow bpmn diff 4 ./my-diagrams --json"))
@click.argument("old", metavar="A", type=int)
@click.argument("new", metavar="B")
@json_option
@pass_app
def diff_command(app: App, old: int, new: str, as_json: bool) -> int:
    """Added, removed and changed elements and DMN rules from version A to B.

    B is a version id or a folder of diagrams (a draft). Elements are matched by id; diagram positions
    are ignored. Exit 0 whether or not anything differs.
    """
    before = _version_files(app, old, "A")
    is_version = new.isdigit() and not Path(new).is_dir()  # a folder named "2" is still a folder
    after = _version_files(app, int(new), "B") if is_version else read_folder(_diagrams(app, Path(new)))
    result = diff(before, after)
    if as_json:
        emit_json({"a": old, "b": new, "sections": result.sections, "files_added": result.files_added,
                   "files_removed": result.files_removed, "files_changed": result.files_changed,
                   "unreadable": result.unreadable})
        return 0
    for line in lines(result):
        say(line)
    if result.empty:
        say(_("no differences between {a} and {b}").format(a=old, b=new))
    return 0


def _version_files(app: App, version_id: int, hint: str) -> dict[str, str]:
    files = read_models.version_files(app.reader, version_id)
    if files is None:
        raise click.BadParameter(_("there is no model version {id} (budgetflow bpmn list)").format(id=version_id),
                                 param_hint=hint)
    return files


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
        # whole: "file:element: kind "expression" failed: error" is what the designer needs to fix the diagram
        say(f"instance {r['id']:>6}  {r['business_key']:<16} {r['process_id']:<20} {(r['last_error'] or '')[:500]}")
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
