"""``budgetflow audit verify|head``: prove the audit chain, print the anchor to export."""

from __future__ import annotations

import argparse
import json
import sys

from engine.bootstrap import build
from engine.domain.audit import Anchor, VerifyResult, parse_anchor
from engine.persistence import audit_repository
from engine.services.audit import audit_key_from_env, describe, verify


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help="verify the tamper-evident audit log")
    audit_sub = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    v = audit_sub.add_parser("verify", help="recompute the HMAC chain; exit 1 naming the first bad seq")
    v.add_argument("--anchor", metavar="SEQ:MAC",
                   help="an anchor exported earlier by `audit head`; catches rows cut off the end")
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.set_defaults(handler=run_verify)
    h = audit_sub.add_parser("head", help="verify, then print the head as SEQ:MAC to store outside the database")
    h.add_argument("--json", action="store_true", help="print the anchor as JSON")
    h.set_defaults(handler=run_head)


def run_verify(args: argparse.Namespace) -> int:
    anchor = parse_anchor(args.anchor) if args.anchor else None
    result = _verify(anchor)
    if args.json:
        print(json.dumps(_as_json(result)))
    else:
        print("\n".join(describe(result)))
    return 0 if result.ok else 1


def run_head(args: argparse.Namespace) -> int:
    result = _verify(None)
    if not result.ok:
        # Exporting the head of a chain that does not verify would vouch for the tampering.
        print("\n".join(describe(result)), file=sys.stderr)
        print("audit head: refusing to print an anchor for a chain that does not verify", file=sys.stderr)
        return 1
    print(json.dumps(_anchor_json(result.head)) if args.json else str(result.head))
    return 0


def _verify(anchor: Anchor | None) -> VerifyResult:
    container = build()
    try:
        key = audit_key_from_env(container.settings)
        with container.session_factory() as session:
            return verify(audit_repository.iter_rows(session), key, anchor=anchor)
    finally:
        container.dispose()


def _as_json(result: VerifyResult) -> dict[str, object]:
    return {
        "ok": result.ok, "rows": result.rows, "first_bad_seq": result.first_bad_seq,
        "problem_count": result.problem_count, "problems": result.problems, "hint": result.hint,
        "head": str(result.head), "anchor_checked": result.anchor_checked,
    }


def _anchor_json(anchor: Anchor) -> dict[str, object]:
    return {"seq": anchor.seq, "mac": anchor.mac, "anchor": str(anchor)}
