"""``budgetflow ledger verify|balances|reservations|release``."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

from engine.bootstrap import build
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
    b.set_defaults(handler=run_balances)
    r = ledger_sub.add_parser("reservations", help="open reservations, oldest first, with their document's state")
    r.add_argument("--older-than-days", type=int, default=0, metavar="N", help="only those made N+ days ago")
    r.set_defaults(handler=run_reservations)
    rel = ledger_sub.add_parser("release", help="a budget admin gives back what a finished request still holds")
    rel.add_argument("reservation_id", type=int)
    rel.add_argument("--by", required=True, help="employee code of the budget admin")
    rel.add_argument("--reason", required=True, help="why (kept in the ledger entry and the audit log)")
    rel.set_defaults(handler=run_release)


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


def run_reservations(args: argparse.Namespace) -> int:
    container = build()
    try:
        cutoff = utcnow() - timedelta(days=args.older_than_days) if args.older_than_days > 0 else None
        with container.session_factory() as session:
            rows = ledger_queries.open_reservations(session, created_before=cutoff)
    finally:
        container.dispose()
    now = utcnow()
    header = f"{'id':>6}  {'document':<24} {'flow':<20} {'age':>5}  {'budget line':<36} {'remaining':>14}"
    print("\n".join([header, "-" * len(header)] + [
        f"{r.reservation_id:>6}  {r.document:<24} {_flow(r):<20} {(now - r.created_at).days:>4}d  "
        f"{r.line:<36} {r.remaining:>14,.2f} {r.currency}" for r in rows]))
    print(f"{len(rows)} open reservation(s); `budgetflow ledger release ID --by CODE --reason TEXT` gives back "
          "one whose flow has ended")
    return 0


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
