"""``budgetflow instances cancel|retry`` and ``budgetflow tasks orphaned|reassign``: an admin's hands on flows."""

from __future__ import annotations

import click

from engine.cli.base import group
from engine.cli.context import App, pass_app
from engine.cli.i18n import N_, _
from engine.cli.output import emit_json, json_option, say
from engine.services import instance_admin, tasks

BY_ADMIN = N_("employee code of the admin (audited)")
REASON = N_("why (audited)")


@group("instances", examples=('budgetflow instances cancel 42 --by E0015 --reason "duplicate request"',
                              "budgetflow instances retry 42 --by E0015"))
def instances() -> None:
    """Cancel a document's flow, or retry one whose step failed."""


@instances.command("cancel", examples=('budgetflow instances cancel 42 --by E0015 --reason "duplicate request"',))
@click.argument("instance_id", type=int)
@click.option("--by", required=True, help=N_("employee code of whoever cancels (audited)"))
@click.option("--reason", required=True, help=REASON)
@pass_app
def cancel(app: App, instance_id: int, by: str, reason: str) -> int:
    """End a flow and give back its reservations (an admin, or its applicant)."""
    instance_admin.cancel(app.uow, instance_id=instance_id, by=by, reason=reason)
    say(_("instance {id} cancelled; its reservations are given back and its tasks closed").format(id=instance_id))
    return 0


@instances.command("retry", examples=("budgetflow instances retry 42 --by E0015",))
@click.argument("instance_id", type=int)
@click.option("--by", required=True, help=BY_ADMIN)
@pass_app
def retry(app: App, instance_id: int, by: str) -> int:
    """Run an instance in incident again after the cause is fixed (admin)."""
    outcome = instance_admin.retry(app.uow, instance_id=instance_id, by=by)
    state = f"{outcome.status} ({outcome.outcome})" if outcome.outcome else outcome.status
    say(_("instance {id} ran again: now {state}").format(id=instance_id, state=state))
    return 0


@group("tasks", examples=("budgetflow tasks orphaned",
                          'budgetflow tasks reassign 5f0c... --to E0007 --by E0015 --reason "E0011 left"'))
def tasks_group() -> None:
    """Open tasks nobody active can take, and giving them to someone."""


@tasks_group.command("orphaned", examples=("budgetflow tasks orphaned", "budgetflow tasks orphaned --json"))
@json_option
@pass_app
def orphaned(app: App, as_json: bool) -> int:
    """Open tasks whose assignee or every candidate is inactive."""
    rows = tasks.orphaned_tasks(app.reader)
    if as_json:
        emit_json({"tasks": rows})
        return 0
    for r in rows:
        held = (_("assigned to {who}").format(who=r["assignee"]) if r["assignee"]
                else _("offered to {who}").format(who=", ".join(r["candidates"]) or "-"))
        say(f"{r['task_guid']}  {r['document_no']:<16} {r['bpmn_id']:<28} {held}")
    say(_("{count} task(s) nobody active can take; give each to someone with "
          "`budgetflow tasks reassign GUID --to CODE --by ADMIN --reason TEXT`").format(count=len(rows)))
    return 0


@tasks_group.command("reassign", examples=(
    'budgetflow tasks reassign 5f0c... --to E0007 --by E0015 --reason "E0011 left"',))
@click.argument("task_guid")
@click.option("--to", "to", required=True, help=N_("employee code of the new holder"))
@click.option("--by", required=True, help=BY_ADMIN)
@click.option("--reason", required=True, help=REASON)
@pass_app
def reassign(app: App, task_guid: str, to: str, by: str, reason: str) -> int:
    """Give an open task to an active employee (admin)."""
    tasks.reassign(app.uow, task_guid=task_guid, to=to, by=by, reason=reason)
    say(_("task {guid} is now {who}'s").format(guid=task_guid, who=to))
    return 0


def register(cli: click.Group) -> None:
    cli.add_command(instances)
    cli.add_command(tasks_group)
