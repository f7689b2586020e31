"""``budgetflow ledger verify|balances|reservations|release``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

from engine.bootstrap import build
from engine.cli.csv_output import print_csv
from engine.domain.money import minor_units
from engine.persistence import ledger_queries
from engine.persistence.types import utcnow
from engine.services.ledger_verify import verify
from engine.services.reservations import release_left_over


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ledger", help="inspect and verify the budget ledger")
    ledger_sub = p.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    v = ledger_sub.add_parser("verify", help="prove cached balances equal the entries; exit 1 if not")
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.set_defaults(handler=run_verify)
    b = ledger_sub.add_parser("balances", help="print every budget line's balance")
    b.add_argument("--prefix", help="only lines whose key starts with this, e.g. 2026/ORG:SALES")
    b.add_argument("--csv", action="store_true", help=_CSV_HELP)
    b.set_defaults(handler=run_balances)
    r = ledger_sub.add_parser("reservations", help="open reservations, oldest first, with their document's state")
    r.add_argument("--older-than-days", type=int, default=0, metavar="N", help="only those made N+ days ago")
    r.add_argument("--csv", action="store_true", help=_CSV_HELP)
    r.set_defaults(handler=run_reservations)
    rel = ledger_sub.add_parser("release", help="a budget admin gives back what a finished request still holds")
    rel.add_argument("reservation_id", type=int)
    rel.add_argument("--by", required=True, help="employee code of the budget admin")
    rel.add_argument("--reason", required=True, help="why (kept in the ledger entry and the audit log)")
    rel.set_defaults(handler=run_release)


_CSV_HELP = "write CSV for a spreadsheet instead (UTF-8 with BOM; text that looks like a formula is escaped)"
BALANCE_COLUMNS = ("budget_line", "holder", "subject", "currency", "control_mode", "budget", "reserved", "consumed",
                   "available")
RESERVATION_COLUMNS = ("reservation_id", "document", "flow", "created_at", "age_days", "budget_line", "currency",
                       "amount", "remaining")


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
            names = ledger_queries.line_names(session) if args.csv else {}
    finally:
        container.dispose()
    if args.csv:
        print_csv(BALANCE_COLUMNS, balance_rows(rows, names))
    else:
        print(format_balances(rows))
    return 0


def balance_rows(rows: list[ledger_queries.LineBalance], names: dict[int, tuple[str, str]]
                 ) -> Iterator[tuple[object, ...]]:
    for r in rows:
        holder, subject = names.get(r.line_id, ("", ""))
        yield (r.label, holder, subject, r.currency, r.control_mode,
               *(_money(value, r.currency) for value in (r.budget, r.reserved, r.consumed, r.available)))


def _money(amount: Decimal, currency: str) -> Decimal:
    """At the currency's places, and still a Decimal: the CSV writes it as a number, never as text."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)))


def format_balances(rows: list[ledger_queries.LineBalance]) -> str:
    header = f"{'budget line':<44} {'mode':<6} {'budget':>14} {'reserved':>12} {'consumed':>12} {'available':>14}"
    out = [header, "-" * len(header)]
    for r in rows:
        out.append(f"{r.label:<44} {r.control_mode:<6} {r.budget:>14,.2f} {r.reserved:>12,.2f} "
                   f"{r.consumed:>12,.2f} {r.available:>14,.2f} {r.currency}")
    return "\n".join(out)


def run_reservations(args: argparse.Namespace) -> int:
    container = build()
    try:
        cutoff = utcnow() - timedelta(days=args.older_than_days) if args.older_than_days > 0 else None
        with container.session_factory() as session:
            rows = ledger_queries.open_reservations(session, created_before=cutoff)
    finally:
        container.dispose()
    now = utcnow()
    if args.csv:
        print_csv(RESERVATION_COLUMNS, reservation_rows(rows, now))
        return 0
    header = f"{'id':>6}  {'document':<24} {'flow':<20} {'age':>5}  {'budget line':<36} {'remaining':>14}"
    print("\n".join([header, "-" * len(header)] + [
        f"{r.reservation_id:>6}  {r.document:<24} {_flow(r):<20} {(now - r.created_at).days:>4}d  "
        f"{r.line:<36} {r.remaining:>14,.2f} {r.currency}" for r in rows]))
    print(f"{len(rows)} open reservation(s); `budgetflow ledger release ID --by CODE --reason TEXT` gives back "
          "one whose flow has ended")
    return 0


def reservation_rows(rows: list[ledger_queries.OpenReservation], now: datetime) -> Iterator[tuple[object, ...]]:
    for r in rows:
        flow = _flow(r) if r.drawn_on_by or r.document_status else ""  # blank, not "-": that would be escaped
        yield (r.reservation_id, r.document, flow, r.created_at, (now - r.created_at).days, r.line, r.currency,
               _money(r.amount, r.currency), _money(r.remaining, r.currency))


def _flow(r: ledger_queries.OpenReservation) -> str:
    return f"{r.drawn_on_by} running" if r.drawn_on_by else r.document_status or "-"


def run_release(args: argparse.Namespace) -> int:
    container = build()
    try:
        result = release_left_over(container.uow, reservation_id=args.reservation_id, by=args.by,
                                   reason=args.reason)
    finally:
        container.dispose()
    again = " (already released earlier: nothing booked again)" if result.replayed else ""
    print(f"reservation {args.reservation_id} closed: {result.released:,.2f} given back to its line{again}")
    return 0
