"""``budgetflow ledger verify|balances|reservations|release``.

The reading commands go through ``read_models`` on a reader: a snapshot that on SQLite
takes no write lock, so they answer at once while a worker or an import is writing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import click

from engine.cli.base import group
from engine.cli.context import App, pass_app
from engine.cli.csv_output import print_csv
from engine.cli.help_format import fit, width_of
from engine.cli.i18n import N_, _
from engine.cli.output import emit_json, json_option, say
from engine.domain.money import minor_units
from engine.persistence.ledger_queries import LineBalance, OpenReservation
from engine.persistence.types import utcnow
from engine.services import read_models
from engine.services.reservations import release_left_over

CSV_HELP = N_("write CSV for a spreadsheet instead (UTF-8 with BOM; text that looks like a formula is escaped)")
BALANCE_COLUMNS = ("budget_line", "holder", "subject", "currency", "control_mode", "budget", "reserved", "consumed",
                   "available")
RESERVATION_COLUMNS = ("reservation_id", "document", "flow", "created_at", "age_days", "budget_line", "currency",
                       "amount", "remaining")


@group("ledger", examples=("budgetflow ledger balances --prefix 2026/ORG:SALES", "budgetflow ledger verify"))
def ledger() -> None:
    """Inspect and verify the budget ledger."""


@ledger.command("verify", examples=("budgetflow ledger verify", "budgetflow ledger verify --json"))
@json_option
@pass_app
def verify_command(app: App, as_json: bool) -> int:
    """Prove every cached balance equals the sum of its entries; exit 1 if not."""
    report = read_models.ledger_check(app.reader)
    if as_json:
        emit_json({"ok": report.ok, "lines": report.lines, "reservations": report.reservations,
                   "problems": report.problems})
    else:
        for problem in report.problems:
            say(f"MISMATCH {problem}")
        verdict = "OK" if report.ok else _("FAILED ({count} problems)").format(count=len(report.problems))
        say(_("ledger verify: {verdict}: {lines} lines, {reservations} reservations checked").format(
            verdict=verdict, lines=report.lines, reservations=report.reservations))
    return 0 if report.ok else 1


@ledger.command("balances", examples=("budgetflow ledger balances",
                                      "budgetflow ledger balances --prefix 2026/ORG:SALES",
                                      "budgetflow ledger balances --csv > balances.csv"))
@click.option("--prefix", help=N_("only lines whose key starts with this, e.g. 2026/ORG:SALES"))
@click.option("--csv", "as_csv", is_flag=True, help=CSV_HELP)
@json_option
@pass_app
def balances_command(app: App, prefix: str | None, as_csv: bool, as_json: bool) -> int:
    """Every budget line's budget, reserved, consumed and available amounts."""
    rows, names = read_models.balances(app.reader, prefix=prefix, names=as_csv or as_json)
    if as_json:
        emit_json({"lines": [dict(zip(BALANCE_COLUMNS, row, strict=True)) for row in balance_rows(rows, names)]})
    elif as_csv:
        print_csv(BALANCE_COLUMNS, balance_rows(rows, names))
    else:
        say(format_balances(rows))
    return 0


def balance_rows(rows: list[LineBalance], names: dict[int, tuple[str, str]]) -> Iterator[tuple[object, ...]]:
    for r in rows:
        holder, subject = names.get(r.line_id, ("", ""))
        yield (r.label, holder, subject, r.currency, r.control_mode,
               *(_money(value, r.currency) for value in (r.budget, r.reserved, r.consumed, r.available)))


def _money(amount: Decimal, currency: str) -> Decimal:
    """At the currency's places, and still a Decimal: the CSV writes it as a number, never as text."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)))


def format_balances(rows: list[LineBalance]) -> str:
    header = (f"{fit(_('budget line'), 44)} {fit(_('mode'), 6)} {fit(_('budget'), 14, right=True)} "
              f"{fit(_('reserved'), 12, right=True)} {fit(_('consumed'), 12, right=True)} "
              f"{fit(_('available'), 14, right=True)}")
    out = [header, "-" * width_of(header)]
    for r in rows:
        out.append(f"{r.label:<44} {r.control_mode:<6} {r.budget:>14,.2f} {r.reserved:>12,.2f} "
                   f"{r.consumed:>12,.2f} {r.available:>14,.2f} {r.currency}")
    return "\n".join(out)


@ledger.command("reservations", examples=("budgetflow ledger reservations --older-than-days 90",
                                          "budgetflow ledger reservations --csv > open.csv"))
@click.option("--older-than-days", type=click.IntRange(min=0), default=0, metavar="N",
              help=N_("only those made N or more days ago"))
@click.option("--csv", "as_csv", is_flag=True, help=CSV_HELP)
@json_option
@pass_app
def reservations_command(app: App, older_than_days: int, as_csv: bool, as_json: bool) -> int:
    """Open reservations, oldest first, with the state of the flow that owns each."""
    now = utcnow()
    rows = read_models.open_reservations(app.reader, now=now, older_than_days=older_than_days)
    if as_json:
        emit_json({"reservations": [dict(zip(RESERVATION_COLUMNS, row, strict=True))
                                    for row in reservation_rows(rows, now)]})
        return 0
    if as_csv:
        print_csv(RESERVATION_COLUMNS, reservation_rows(rows, now))
        return 0
    say(format_reservations(rows, now))
    say(_("{count} open reservation(s); `budgetflow ledger release ID --by CODE --reason TEXT` gives back one whose "
          "flow has ended").format(count=len(rows)))
    return 0


def format_reservations(rows: list[OpenReservation], now: datetime) -> str:
    header = (f"{'id':>6}  {fit(_('document'), 24)} {fit(_('flow'), 20)} {fit(_('age'), 5, right=True)}  "
              f"{fit(_('budget line'), 36)} {fit(_('remaining'), 14, right=True)}")
    return "\n".join([header, "-" * width_of(header)] + [
        f"{r.reservation_id:>6}  {r.document:<24} {_flow(r):<20} {(now - r.created_at).days:>4}d  "
        f"{r.line:<36} {r.remaining:>14,.2f} {r.currency}" for r in rows])


def reservation_rows(rows: list[OpenReservation], now: datetime) -> Iterator[tuple[object, ...]]:
    for r in rows:
        flow = _flow(r) if r.drawn_on_by or r.document_status else ""  # blank, not "-": that would be escaped
        yield (r.reservation_id, r.document, flow, r.created_at, (now - r.created_at).days, r.line, r.currency,
               _money(r.amount, r.currency), _money(r.remaining, r.currency))


def _flow(r: OpenReservation) -> str:
    return f"{r.drawn_on_by} running" if r.drawn_on_by else r.document_status or "-"


@ledger.command("release", examples=(
    'budgetflow ledger release 42 --by E0002 --reason "trip cancelled, no claim will follow"',))
@click.argument("reservation_id", type=int)
@click.option("--by", required=True, help=N_("employee code of the budget admin"))
@click.option("--reason", required=True, help=N_("why (kept in the ledger entry and the audit log)"))
@pass_app
def release_command(app: App, reservation_id: int, by: str, reason: str) -> Any:
    """A budget admin gives back what a finished request still holds."""
    result = release_left_over(app.uow, reservation_id=reservation_id, by=by, reason=reason)
    again = _(" (already released earlier: nothing booked again)") if result.replayed else ""
    say(_("reservation {id} closed: {amount} given back to its line").format(
        id=reservation_id, amount=f"{result.released:,.2f}") + again)
    return 0


def register(cli: click.Group) -> None:
    cli.add_command(ledger)
