"""``budgetflow audit verify|head``: prove the audit chain against the stored anchor, print the anchor to export."""

from __future__ import annotations

import argparse
import json
import sys

from engine.bootstrap import build
from engine.cli.audit_anchor import anchor_store, row_source, warn_about_development_key
from engine.domain.audit import Anchor, parse_anchor
from engine.services.audit import AnchoredVerify, audit_key_from_env, describe, verify_anchored


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help="verify the tamper-evident audit log")
    audit_sub = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    v = audit_sub.add_parser("verify", help="recompute the HMAC chain against the stored anchor; exit 1 naming "
                             "the first bad seq; advance the anchor when everything verifies")
    v.add_argument("--anchor", metavar="SEQ:MAC",
                   help="also check an anchor exported earlier by `audit head`")
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.set_defaults(handler=run_verify)
    h = audit_sub.add_parser("head", help="verify, then print the head as SEQ:MAC to store outside the database")
    h.add_argument("--json", action="store_true", help="print the anchor as JSON")
    h.set_defaults(handler=run_head)


def run_verify(args: argparse.Namespace) -> int:
    extra = parse_anchor(args.anchor) if args.anchor else None
    outcome = _verify(extra)
    if args.json:
        print(json.dumps(_as_json(outcome)))
    else:
        lines = describe(outcome.result)
        print("\n".join([*lines[:-1], *_anchor_lines(outcome), lines[-1]]))
    return 0 if outcome.result.ok else 1


def run_head(args: argparse.Namespace) -> int:
    outcome = _verify(None)
    result = outcome.result
    if not result.ok:
        # Exporting the head of a chain that does not verify would vouch for the tampering.
        print("\n".join(describe(result)), file=sys.stderr)
        print("audit head: refusing to print an anchor for a chain that does not verify", file=sys.stderr)
        return 1
    print(json.dumps(_anchor_json(result.head)) if args.json else str(result.head))
    return 0


def _verify(extra: Anchor | None) -> AnchoredVerify:
    container = build()
    try:
        key = audit_key_from_env(container.settings)  # never creates one: see engine.audit_key
        warn_about_development_key(container.settings)
        outcome = verify_anchored(row_source(container), key, anchor_store(container.settings), also=extra)
    finally:
        container.dispose()
    for note in outcome.notes:
        print(note, file=sys.stderr)
    return outcome


def _anchor_lines(outcome: AnchoredVerify) -> list[str]:
    if outcome.stored is None and outcome.written is None:
        return []
    checked = f"checked against seq {outcome.stored.seq}" if outcome.stored else "none before"
    moved = f", advanced to seq {outcome.written.seq}" if outcome.written else ""
    return [f"ANCHOR {outcome.location}: {checked}{moved}"]


def _as_json(outcome: AnchoredVerify) -> dict[str, object]:
    result = outcome.result
    return {
        "ok": result.ok, "rows": result.rows, "first_bad_seq": result.first_bad_seq,
        "problem_count": result.problem_count, "problems": result.problems, "hint": result.hint,
        "head": str(result.head), "anchor_checked": result.anchor_checked,
        "anchor_file": outcome.location, "stored_anchor": _text(outcome.stored),
        "anchor_written": _text(outcome.written), "notes": outcome.notes,
    }


def _text(anchor: Anchor | None) -> str | None:
    return None if anchor is None else str(anchor)


def _anchor_json(anchor: Anchor) -> dict[str, object]:
    return {"seq": anchor.seq, "mac": anchor.mac, "anchor": str(anchor)}
