"""``budgetflow reconcile``: compare the ERP's book with what budgetflow posted; ``--payments`` reads payments back.
``budgetflow erp check``: are the ERP settings right, does the ERP answer, is there a posting rule for it?

What finance runs at month end, or after an ERP outage: every voucher budgetflow posted in the window must be
in the ERP once and unchanged, and the budget consumed must match the ERP's actuals by account and cost
center. Exit 0: no difference; 1: differences (listed), or the ERP could not be read (one error line); 2: a
setting is wrong or the ERP refused the credentials.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from connectors.base import ConnectorError
from engine.cli.base import command, group
from engine.cli.context import App, pass_app
from engine.cli.i18n import N_, _
from engine.cli.output import emit_json, json_option, say
from engine.persistence.types import utcnow
from engine.services.reconciliation import default_window

KINDS = {"missing": N_("missing in the ERP"), "changed": N_("changed in the ERP"),
         "duplicated": N_("duplicated in the ERP"), "actuals": N_("actuals differ from the budget consumed")}


def _date(_ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(_("{value!r} is not a date like 2026-12-31").format(value=value)) from None


@command("reconcile", examples=("budgetflow reconcile", "budgetflow reconcile --from 2026-11-01 --to 2026-11-30 --json",
                                "budgetflow reconcile --payments"))
@click.option("--from", "start", callback=_date, metavar="DATE",
              help=N_("first posting date of the window (default: 30 days before --to)"))
@click.option("--to", "end", callback=_date, metavar="DATE",
              help=N_("last posting date of the window (default: today)"))
@click.option("--payments", is_flag=True, help=N_("also read payments back and mark paid claims"))
@json_option
@pass_app
def reconcile(app: App, start: date | None, end: date | None, payments: bool, as_json: bool) -> int:
    """Compare the configured ERP's book with the vouchers budgetflow posted; exit 1 if they differ."""
    default_start, default_end = default_window(end or utcnow().date())
    start, end = start or default_start, end or default_end
    if end < start:
        raise click.BadParameter(_("--to {end} is before --from {start}").format(end=end, start=start))
    container = app.container
    # An ERP that cannot be read is an error line and exit 1 (engine/cli/failures.py), never a clean report.
    paid = container.payment_sync().run() if payments else None
    found = container.reconciler().run(start, end)
    if as_json:
        emit_json({**found, "paid": paid})
    else:
        _report(found, paid)
    return 1 if found["differences"] else 0


def _report(found: dict[str, Any], paid: int | None) -> None:
    say(_("{erp}: {start} to {end}: {ours} voucher(s) posted by budgetflow, {theirs} in the ERP").format(
        erp=found["erp"], start=found["start"], end=found["end"], ours=found["vouchers"]["budgetflow"],
        theirs=found["vouchers"]["erp"]))
    if paid is not None:
        say(_("{n} claim(s) newly marked paid").format(n=paid))
    if not found["differences"]:
        say(_("no differences"))
    for d in found["differences"]:
        where = " ".join(x for x in (d["document_no"], d["voucher_no"], d["account"], d["cost_center"]) if x)
        say(f"{_(KINDS.get(d['kind'], d['kind']))}: {where}: {d['detail']}")


@group("erp", examples=("budgetflow erp check", "budgetflow erp check --json"))
def erp() -> None:
    """The ERP vouchers are posted to (docs/erp.md): check its settings, credentials and posting rule."""


@erp.command("check", examples=("budgetflow erp check", "BUDGETFLOW_ERP_CONFIG=/etc/budgetflow/erp.toml budgetflow "
                                 "erp check --json"))
@json_option
@pass_app
def check(app: App, as_json: bool) -> int:
    """Read the ERP settings, ask the ERP for today's vouchers and look up its posting rule; exit 1 if one fails."""
    container = app.container
    connection = container.erp_connection()  # SettingInvalid: exit 2, the problem named
    client = container.erp_client()
    today = utcnow().date()
    try:
        client.list_vouchers(start=today, end=today)
        reached: dict[str, Any] = {"ok": True, "code": None, "message": None}
    except ConnectorError as exc:
        reached = {"ok": False, "code": exc.code, "message": str(exc)}
    rule = container.voucher_posting(client).rule()
    found = {"connector": connection.connector, "settings": connection.source, "erp": reached,
             "posting_rule": None if rule is None else {"book": rule.book, "voucher_type": rule.voucher_type,
                                                        "payable_account": rule.payable_account,
                                                        "vat_input_account": rule.vat_input_account}}
    if as_json:
        emit_json(found)
    else:
        _check_report(found)
    return 0 if reached["ok"] and rule is not None else 1


def _check_report(found: dict[str, Any]) -> None:
    say(_("ERP connector {connector} ({settings})").format(**found))
    reached = found["erp"]
    say(_("the ERP answered") if reached["ok"] else _("the ERP did not answer: {code}: {message}").format(**reached))
    rule = found["posting_rule"]
    if rule is None:
        say(_("the data dictionary has no posting rule for {connector}: add a row to posting_rules.csv "
              "(docs/master-data.md)").format(**found))
    else:
        say(_("posting rule: book {book}, voucher type {voucher_type}, payable {payable_account}, input VAT "
              "{vat_input_account}").format(**rule))


def register(cli: click.Group) -> None:
    cli.add_command(reconcile)
    cli.add_command(erp)
