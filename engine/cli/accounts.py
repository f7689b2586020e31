"""``budgetflow users set-password`` and ``budgetflow tokens issue|list|revoke``: sign-ins and API tokens.

Whoever runs these holds the database already, so no second password is asked; what is done is
audited under ``--by`` (default: the employee concerned). A token's secret is printed once, when it
is issued: only its hash is stored (docs/api.md).
"""

from __future__ import annotations

import sys
from datetime import timedelta

import click

from engine.cli.base import group
from engine.cli.context import App, pass_app
from engine.cli.i18n import N_, _
from engine.cli.output import emit_json, json_option, note, say
from engine.domain.errors import PasswordRejected, UnknownEmployee
from engine.persistence.types import utcnow
from engine.services import accounts

BY = N_("employee code of whoever does this (audited; default: the employee concerned)")


@group("users", examples=("budgetflow users set-password E0017",))
def users() -> None:
    """Local sign-ins: set an employee's password."""


@users.command("set-password", examples=("budgetflow users set-password E0017",
                                         "printf '%s\\n' \"$PASSWORD\" | budgetflow users set-password E0017 "
                                         "--password-stdin"))
@click.argument("code")
@click.option("--password-stdin", is_flag=True, help=N_("read the password from the first line of stdin"))
@click.option("--by", help=BY)
@pass_app
def set_password(app: App, code: str, password_stdin: bool, by: str | None) -> int:
    """Give an active employee a local password (asked twice, never shown or logged)."""
    if accounts.principal(app.reader, code) is None:  # before asking: a typo costs no typing, the database is there
        raise UnknownEmployee(_("{code} is not an active employee").format(code=code))
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(_("New password"), hide_input=True, confirmation_prompt=_("Repeat it"))
    if not password:
        raise PasswordRejected(_("no password given"), field="password")
    accounts.set_password(app.uow, employee=code, password=password, by=by or code)
    say(_("{code} can now sign in with the new password").format(code=code))
    return 0


@group("tokens", examples=("budgetflow tokens issue --employee E0011 --scope finance --label erp-sync",
                           "budgetflow tokens list"))
def tokens() -> None:
    """API tokens for other systems: issue, list, revoke."""


@tokens.command("issue", examples=(
    "budgetflow tokens issue --employee E0011 --scope finance --label erp-sync",
    "budgetflow tokens issue --employee E0005 --scope employee --scope manager --label oa --expires-days 90"))
@click.option("--employee", required=True, help=N_("employee code the token acts as"))
@click.option("--scope", "scopes", multiple=True, required=True,
              help=N_("a role the token may act with (repeat for several; the employee must hold it)"))
@click.option("--label", required=True, help=N_("what the token is for"))
@click.option("--expires-days", type=click.IntRange(1, 3650), help=N_("days until it expires (default: never)"))
@click.option("--by", help=BY)
@pass_app
def issue(app: App, employee: str, scopes: tuple[str, ...], label: str, expires_days: int | None,
          by: str | None) -> int:
    """Issue a bearer token and print its secret once (only its hash is kept)."""
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    token_id, secret = accounts.issue_token(app.uow, employee=employee, label=label, scopes=list(scopes),
                                            by=by or employee, expires_at=expires_at)
    say(secret)
    note(_("token {id} for {employee}: the line above is its secret, shown only now; send it as "
           "'Authorization: Bearer <secret>'").format(id=token_id, employee=employee))
    return 0


@tokens.command("list", examples=("budgetflow tokens list", "budgetflow tokens list --employee E0011 --json"))
@click.option("--employee", help=N_("only this employee's tokens"))
@json_option
@pass_app
def list_command(app: App, employee: str | None, as_json: bool) -> int:
    """API tokens with their scopes, expiry and last use; never a secret."""
    rows = accounts.list_tokens(app.reader, employee)
    if as_json:
        emit_json({"tokens": rows})
        return 0
    for t in rows:
        state = _("revoked") if t["revoked_at"] else _("active")
        expires = t["expires_at"].isoformat(timespec="minutes") if t["expires_at"] else "-"
        used = t["last_used_at"].isoformat(timespec="minutes") if t["last_used_at"] else "-"
        say(f"{t['id']:>5}  {t['employee']:<8} {state:<8} {','.join(t['scopes']):<28} "
            f"{expires:<17} {used:<17} {t['label']}")
    say(_("{count} token(s)").format(count=len(rows)))
    return 0


@tokens.command("revoke", examples=("budgetflow tokens revoke 3",))
@click.argument("token_id", type=int)
@click.option("--by", help=BY)
@pass_app
def revoke(app: App, token_id: int, by: str | None) -> int:
    """Revoke a token at once; calls made with it are refused from now on."""
    owner = next((t["employee"] for t in accounts.list_tokens(app.reader, None) if t["id"] == token_id), None)
    accounts.revoke_token(app.uow, token_id=token_id, by=by or owner or "-")
    say(_("token {id} revoked").format(id=token_id))
    return 0


def register(cli: click.Group) -> None:
    cli.add_command(users)
    cli.add_command(tokens)
