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
from engine.services.oa_clients import client_for


@group("oa", examples=("budgetflow oa check", "budgetflow oa check --json"))
def oa() -> None:
    """The OA suites (DingTalk, WeCom, Feishu): check their settings and credentials."""


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


def register(cli: click.Group) -> None:
    from engine.cli import oa_callbacks  # noqa: F401 - adds `oa callbacks` to the group

    cli.add_command(oa)
