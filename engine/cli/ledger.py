"""``budgetflow ledger verify|balances``."""

from __future__ import annotations

import argparse
import json

from engine.bootstrap import build
from engine.persistence import ledger_queries
from engine.services.ledger_verify import verify


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ledger", help="inspect and verify the budget ledger")
    ledger_sub = p.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    v = ledger_sub.add_parser("verify", help="prove cached balances equal the entries; exit 1 if not")
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.set_defaults(handler=run_verify)
    b = ledger_sub.add_parser("balances", help="print every budget line's balance")
    b.add_argument("--prefix", help="only lines whose key starts with this, e.g. 2026/ORG:SALES")
    b.set_defaults(handler=run_balances)


def run_verify(args: argparse.Namespace) -> int:
    container = build()
    try:
        with container.session_factory() as session:
            report = verify(ledger_queries.line_totals(session), ledger_queries.reservation_totals(session))
    finally:
        container.dispose()
    if args.json:
        print(json.dumps({"ok": report.ok, "lines": report.lines, "reservations": report.reservations,
                          "problems": report.problems}))
    else:
        for problem in report.problems:
            print(f"MISMATCH {problem}")
        verdict = "OK" if report.ok else f"FAILED ({len(report.problems)} problems)"
        print(f"ledger verify: {verdict}: {report.lines} lines, {report.reservations} reservations checked")
    return 0 if report.ok else 1


def run_balances(args: argparse.Namespace) -> int:
    container = build()
    try:
        with container.session_factory() as session:
            rows = ledger_queries.balances(session, prefix=args.prefix)
    finally:
        container.dispose()
    print(format_balances(rows))
    return 0


def format_balances(rows: list[ledger_queries.LineBalance]) -> str:
    header = f"{'budget line':<44} {'mode':<6} {'budget':>14} {'reserved':>12} {'consumed':>12} {'available':>14}"
    out = [header, "-" * len(header)]
    for r in rows:
        out.append(f"{r.label:<44} {r.control_mode:<6} {r.budget:>14,.2f} {r.reserved:>12,.2f} "
                   f"{r.consumed:>12,.2f} {r.available:>14,.2f} {r.currency}")
    return "\n".join(out)
