"""``budgetflow demo``: the quick start's main job until the process engine drives it.

Creates the schema, seeds the demo company, walks one budget line through the
ledger's life (reserve, replay, partial and closing write-offs, rejection,
refusals) and prints balances and the verification, all on the default database.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from engine.bootstrap import Container, build
from engine.cli.ledger import format_balances
from engine.cli.masterdata import import_folder
from engine.domain.budget_line import BudgetLineKey
from engine.domain.errors import BudgetflowError
from engine.domain.money import Money
from engine.persistence import ledger_queries, schema
from engine.seed import demo_folder
from engine.services import ledger
from engine.services.ledger_verify import verify

DEMO_LINE = BudgetLineKey(period="2026", org_unit="SALES-N", subject="TRAVEL")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="create the schema, seed the demo company and tour the budget ledger")
    p.set_defaults(handler=run_demo)


def run_demo(_args: argparse.Namespace) -> int:
    container = build()
    try:
        schema.upgrade(container.engine)
        if import_folder(container, demo_folder()) != 0:
            return 1
        _tour(container, stamp=datetime.now(UTC).strftime("%Y%m%d%H%M%S"))
        return _report(container)
    finally:
        container.dispose()


def _tour(container: Container, *, stamp: str) -> None:
    with container.session_factory() as s:
        line_id = ledger_queries.find_line(s, DEMO_LINE)
    assert line_id is not None, "the demo data has no 2026 SALES-N travel line"
    app, app2, exp1, exp2 = (f"{kind}-{stamp}" for kind in ("APP", "APP2", "EXP1", "EXP2"))
    cny = lambda amount: Money.of(amount, "CNY")  # noqa: E731 - a local shorthand keeps the tour readable
    print(f"\nledger tour on {DEMO_LINE.label}")
    r = _step("travel application reserves 12,000.00", lambda: ledger.reserve(
        container.uow, line_id=line_id, amount=cny("12000.00"), key=f"{app}:reserve", document=app))
    _step("the same request again (a retry) books nothing", lambda: ledger.reserve(
        container.uow, line_id=line_id, amount=cny("12000.00"), key=f"{app}:reserve", document=app))
    _step("first claim writes off 7,500.00", lambda: ledger.write_off(
        container.uow, reservation_id=r.reservation_id, amount=cny("7500.00"), key=f"{exp1}:write_off",
        document=exp1))
    _step("last claim writes off 3,800.00 and closes", lambda: ledger.write_off(
        container.uow, reservation_id=r.reservation_id, amount=cny("3800.00"), key=f"{exp2}:write_off",
        document=exp2, close=True))
    r2 = _step("second application reserves 5,000.00", lambda: ledger.reserve(
        container.uow, line_id=line_id, amount=cny("5000.00"), key=f"{app2}:reserve", document=app2))
    _step("it is rejected: the reservation is released", lambda: ledger.release(
        container.uow, reservation_id=r2.reservation_id, key=f"{app2}:reject", document=app2, reason="rejected"))
    _step("a write-off after the release is refused", lambda: ledger.write_off(
        container.uow, reservation_id=r2.reservation_id, amount=cny("10.00"), key=f"{app2}:late", document=app2))
    _step("10,000,000.00 more is refused by FORBID", lambda: ledger.reserve(
        container.uow, line_id=line_id, amount=cny("10000000.00"), key=f"{app}-big:reserve", document=app))


def _step(title: str, action: Callable[[], Any]) -> Any:
    try:
        result = action()
    except BudgetflowError as exc:
        print(f"  - {title}\n      refused [{exc.code}]: {exc}")
        return None
    shown = ", ".join(f"{k}={_show(v)}" for k, v in vars(result).items() if k != "replayed")
    print(f"  - {title}\n      {'replayed' if getattr(result, 'replayed', False) else 'booked'}: {shown}")
    return result


def _show(value: object) -> str:
    return f"{value:,.2f}" if isinstance(value, Decimal) else str(value)


def _report(container: Container) -> int:
    with container.session_factory() as s:
        rows = ledger_queries.balances(s, prefix="2026/ORG:SALES-N/")
        report = verify(ledger_queries.line_totals(s), ledger_queries.reservation_totals(s))
    print("\nbalances, North China Sales (华北销售部), FY2026\n" + format_balances(rows))
    verdict = "OK" if report.ok else "FAILED: " + "; ".join(report.problems[:3])
    print(f"\nledger verify: {verdict} ({report.lines} lines, {report.reservations} reservations)")
    return 0 if report.ok else 1
