"""``budgetflow ledger tour``: a guided tour of the budget ledger alone.

Creates the schema, seeds the demo company, walks one budget line through the ledger's
life (reserve, replay, partial and closing write-offs, rejection, refusals) and prints
balances and the verification, on the configured database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import click

from engine.bootstrap import Container
from engine.cli.base import command
from engine.cli.context import App, pass_app
from engine.cli.i18n import N_, _
from engine.cli.ledger import format_balances
from engine.cli.masterdata import import_folder
from engine.cli.output import say
from engine.domain.budget_line import BudgetLineKey
from engine.domain.errors import BudgetflowError
from engine.domain.money import Money
from engine.persistence import schema
from engine.seed import demo_folder
from engine.services import ledger, read_models

DEMO_LINE = BudgetLineKey(period="2026", org_unit="SALES-N", subject="TRAVEL")


@command("tour", examples=("budgetflow ledger tour",))
@pass_app
def tour(app: App) -> int:
    """Create the schema, seed the demo company and tour the budget ledger.

    Writes into the configured database (see `budgetflow info`); for the whole flow with
    approvals and vouchers, in a throwaway database, run `budgetflow simulate`.
    """
    container = app.creating_container()
    schema.upgrade(container.engine)
    if import_folder(container, demo_folder()) != 0:
        return 1
    _tour(container, stamp=datetime.now(UTC).strftime("%Y%m%d%H%M%S"))
    return _report(container)


def _tour(container: Container, *, stamp: str) -> None:
    line_id = read_models.find_line(container.reader, DEMO_LINE)
    if line_id is None:
        raise BudgetflowError(f"the demo data has no budget line {DEMO_LINE.label}")
    app, app2, exp1, exp2 = (f"{kind}-{stamp}" for kind in ("APP", "APP2", "EXP1", "EXP2"))
    cny = lambda amount: Money.of(amount, "CNY")  # noqa: E731 - a local shorthand keeps the tour readable
    uow = container.uow
    say("\n" + _("ledger tour on {line}").format(line=DEMO_LINE.label))
    r = _step(N_("travel application reserves 12,000.00"), lambda: ledger.reserve(
        uow, line_id=line_id, amount=cny("12000.00"), key=f"{app}:reserve", document=app))
    _step(N_("the same request again (a retry) books nothing"), lambda: ledger.reserve(
        uow, line_id=line_id, amount=cny("12000.00"), key=f"{app}:reserve", document=app))
    _step(N_("first claim writes off 7,500.00"), lambda: ledger.write_off(
        uow, reservation_id=r.reservation_id, amount=cny("7500.00"), key=f"{exp1}:write_off", document=exp1))
    _step(N_("last claim writes off 3,800.00 and closes"), lambda: ledger.write_off(
        uow, reservation_id=r.reservation_id, amount=cny("3800.00"), key=f"{exp2}:write_off", document=exp2,
        close=True))
    r2 = _step(N_("second application reserves 5,000.00"), lambda: ledger.reserve(
        uow, line_id=line_id, amount=cny("5000.00"), key=f"{app2}:reserve", document=app2))
    _step(N_("it is rejected: the reservation is released"), lambda: ledger.release(
        uow, reservation_id=r2.reservation_id, key=f"{app2}:reject", document=app2, reason="rejected"))
    _step(N_("a write-off after the release is refused"), lambda: ledger.write_off(
        uow, reservation_id=r2.reservation_id, amount=cny("10.00"), key=f"{app2}:late", document=app2))
    _step(N_("10,000,000.00 more is refused by FORBID"), lambda: ledger.reserve(
        uow, line_id=line_id, amount=cny("10000000.00"), key=f"{app}-big:reserve", document=app))


def _step(title: str, action: Callable[[], Any]) -> Any:
    try:
        result = action()
    except BudgetflowError as exc:
        say(f"  - {_(title)}\n      " + _("refused [{code}]: {reason}").format(code=exc.code, reason=exc))
        return None
    shown = ", ".join(f"{k}={_show(v)}" for k, v in vars(result).items() if k != "replayed")
    verdict = _("replayed") if getattr(result, "replayed", False) else _("booked")
    say(f"  - {_(title)}\n      {verdict}: {shown}")
    return result


def _show(value: object) -> str:
    return f"{value:,.2f}" if isinstance(value, Decimal) else str(value)


def _report(container: Container) -> int:
    rows, _names = read_models.balances(container.reader, prefix="2026/ORG:SALES-N/")
    report = read_models.ledger_check(container.reader)
    say("\n" + _("balances, North China Sales (华北销售部), FY2026") + "\n" + format_balances(rows))
    verdict = "OK" if report.ok else _("FAILED: {problems}").format(problems="; ".join(report.problems[:3]))
    say("\n" + _("ledger verify: {verdict} ({lines} lines, {reservations} reservations)").format(
        verdict=verdict, lines=report.lines, reservations=report.reservations))
    return 0 if report.ok else 1


def register(cli: click.Group) -> None:
    ledger_group = cli.commands["ledger"]
    assert isinstance(ledger_group, click.Group)
    ledger_group.add_command(tour)
