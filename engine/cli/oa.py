"""``budgetflow oa check``: are the OA suites set up right? Reads the settings, asks each vendor for a token.

What an IT team integrating its OA wants to know before registering the callback URL: the settings file is
read whole (or the one problem is named), each configured suite answers with a token for these credentials
(or says why not, by the vendor's error code), and which URLs to register with the vendor.
"""

from __future__ import annotations

from typing import Any

import click

from connectors.base import ConnectorError
from connectors.oa.http import MemoryTokenCache
from engine.cli.base import group
from engine.cli.context import App, pass_app
from engine.cli.i18n import N_, _
from engine.cli.output import emit_json, json_option, say
from engine.oa_settings import load_oa_connections, oa_config_path
from engine.services import oa_org_sync
from engine.services.oa_clients import client_for

KINDS = {"created": N_("created"), "renamed": N_("renamed"), "moved": N_("moved"),
         "deactivated": N_("deactivated")}
RULES = {"dropped": N_("dropped from its candidates"), "released": N_("back to its other candidates"),
         "reassigned": N_("reassigned"),
         "unassigned": N_("nobody found: left for an admin (budgetflow tasks orphaned)")}


@group("oa", examples=("budgetflow oa check", "budgetflow oa sync --dry-run"))
def oa() -> None:
    """The OA suites (DingTalk, WeCom, Feishu): check their settings and credentials, sync people from them."""


def _probe(conn: Any) -> dict[str, Any]:
    """One suite: a token for these credentials (never cached: this checks them), or the vendor's refusal."""
    try:
        client_for(conn, MemoryTokenCache()).access_token()
    except ConnectorError as exc:
        return {"vendor": conn.vendor, "ok": False, "code": exc.code, "message": str(exc)}
    return {"vendor": conn.vendor, "ok": True, "code": None, "message": None}


@oa.command("check", examples=("budgetflow oa check", "BUDGETFLOW_OA_CONFIG=/etc/budgetflow/oa.toml budgetflow "
                                "oa check --json"))
@click.option("--base-url", default="https://budgetflow.example.com", show_default=True,
              help=N_("this budgetflow's public address, to print the URLs to register with each vendor"))
@json_option
@pass_app
def check(app: App, base_url: str, as_json: bool) -> int:
    """Read the OA settings and ask each configured suite for an access token; exit 1 if one refuses."""
    connections = load_oa_connections(app.settings.instance_dir)  # SettingInvalid: exit 2, the problem named
    results = [_probe(conn) for _vendor, conn in sorted(connections.items())]
    base = base_url.rstrip("/")
    for result in results:
        result["callback_url"] = f"{base}/callbacks/{result['vendor']}"
        result["sign_in_redirect_url"] = f"{base}/login/oa/{result['vendor']}/done"
    path = oa_config_path(app.settings.instance_dir)
    if as_json:
        emit_json({"settings_file": str(path) if path else None, "suites": results})
    elif not results:
        say(_("no OA suite is configured: set BUDGETFLOW_OA_CONFIG or put oa.toml in the instance folder "
              "(docs/oa.md)"))
    for result in [] if as_json else results:
        if result["ok"]:
            say(_("{vendor}: the credentials work; register {callback} for callbacks and {redirect} for "
                  "sign-in").format(vendor=result["vendor"], callback=result["callback_url"],
                                    redirect=result["sign_in_redirect_url"]))
        else:
            say(_("{vendor}: {code}: {message}").format(**result))
    return 0 if all(r["ok"] for r in results) else 1


@oa.command("sync", examples=("budgetflow oa sync --dry-run", "budgetflow oa sync --json"))
@click.option("--dry-run", is_flag=True, help=N_("show what the sync would change, and change nothing"))
@json_option
@pass_app
def sync(app: App, dry_run: bool, as_json: bool) -> int:
    """Sync people from each configured OA suite's directory (docs/oa.md, "Org sync"); exit 1 if a suite fails.

    New people in a mapped department are created, renamed and moved people updated, disabled or vanished
    people deactivated and their open tasks handed on; people in unmapped departments are only reported.
    """
    connections = load_oa_connections(app.settings.instance_dir)  # SettingInvalid: exit 2, the problem named
    report = oa_org_sync.sync_all(app.uow, connections, app.container.oa_tokens(), dry_run=dry_run)
    if as_json:
        emit_json({"configured": bool(connections), **report.as_dict()})
        return 0 if report.ok else 1
    if not connections:
        say(_("no OA suite is configured: set BUDGETFLOW_OA_CONFIG or put oa.toml in the instance folder "
              "(docs/oa.md)"))
    for suite in report.suites:
        _say_suite(suite)
    if dry_run:
        say(_("dry run: nothing was changed"))
    return 0 if report.ok else 1


def _say_suite(suite: oa_org_sync.SuiteSync) -> None:
    if not suite.ok:
        say(_("{vendor}: {code}: {message}").format(vendor=suite.vendor, code=suite.error_code,
                                                    message=suite.error))
        return
    say(_("{vendor}: {changes} change(s), {tasks} task(s) handed on, {unplaced} person(s) not placed").format(
        vendor=suite.vendor, changes=len(suite.changes), tasks=len(suite.reassignments),
        unplaced=len(suite.not_placed)))
    for change in suite.changes:
        say(_("  {employee} ({oa_id}) {kind}: {before} → {after}").format(
            employee=change.employee, oa_id=change.oa_id, kind=_(KINDS[change.kind]),
            before=change.before or "-", after=change.after or "-"))
    for moved in suite.reassignments:
        say(_("  task {task} of {document}, {person}'s: {rule} {to}").format(
            task=moved.task, document=moved.document_no, person=moved.person, rule=_(RULES[moved.action]),
            to=", ".join(moved.to)))
    for person in suite.not_placed:
        say(_("  not placed: {oa_id} {name} (departments {departments}): {reason}").format(
            oa_id=person.oa_id, name=person.name, departments=", ".join(person.departments) or "-",
            reason=person.reason))


def register(cli: click.Group) -> None:
    from engine.cli import oa_callbacks  # noqa: F401 - adds `oa callbacks` to the group

    cli.add_command(oa)
