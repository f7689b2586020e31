"""``budgetflow audit verify|head``: prove the audit chain against the stored anchor, print the anchor to export."""

from __future__ import annotations

import click

from engine.audit_anchoring import anchor_store, row_source, warn_about_development_key
from engine.cli.base import group
from engine.cli.context import App, pass_app
from engine.cli.i18n import N_, _
from engine.cli.output import emit_json, json_option, note, say
from engine.domain.audit import Anchor, parse_anchor
from engine.domain.errors import BudgetflowError
from engine.services.audit import AnchoredVerify, audit_key_from_env, describe, verify_anchored


@group("audit", examples=("budgetflow audit verify", "budgetflow audit head > anchor-$(date +%F).txt"))
def audit() -> None:
    """Verify the tamper-evident audit log and export its anchor."""


def _anchor(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Anchor | None:
    try:
        return parse_anchor(value) if value else None
    except BudgetflowError as exc:
        raise click.BadParameter(str(exc)) from None


@audit.command("verify", examples=("budgetflow audit verify", "budgetflow audit verify --anchor 10000:8a3f...c21e",
                                   "budgetflow audit verify --json"))
@click.option("--anchor", metavar="SEQ:MAC", callback=_anchor, help=N_("also check an anchor exported earlier by "
                                                                      "`audit head`"))
@json_option
@pass_app
def verify_command(app: App, anchor: Anchor | None, as_json: bool) -> int:
    """Recompute the HMAC chain against the stored anchor; exit 1 naming the first bad seq.

    When everything verifies, the stored anchor advances to the head of the chain.
    """
    outcome = _verify(app, anchor)
    if as_json:
        emit_json(_as_json(outcome))
    else:
        lines = describe(outcome.result)
        say("\n".join([*lines[:-1], *_anchor_lines(outcome), lines[-1]]))
    return 0 if outcome.result.ok else 1


@audit.command("head", examples=("budgetflow audit head", "budgetflow audit head --json"))
@json_option
@pass_app
def head_command(app: App, as_json: bool) -> int:
    """Verify, then print the head as SEQ:MAC to keep outside the database."""
    result = _verify(app, None).result
    if not result.ok:
        # Exporting the head of a chain that does not verify would vouch for the tampering.
        note("\n".join(describe(result)))
        note(_("audit head: refusing to print an anchor for a chain that does not verify"))
        return 1
    if as_json:
        emit_json({"seq": result.head.seq, "mac": result.head.mac, "anchor": str(result.head)})
    else:
        say(str(result.head))
    return 0


def _verify(app: App, extra: Anchor | None) -> AnchoredVerify:
    container = app.container
    key = audit_key_from_env(container.settings)  # never creates one: see engine.audit_key
    warn_about_development_key(container.settings)
    outcome = verify_anchored(row_source(container), key, anchor_store(container.settings), also=extra)
    for line in outcome.notes:
        note(line)
    return outcome


def _anchor_lines(outcome: AnchoredVerify) -> list[str]:
    if outcome.stored is None and outcome.written is None:
        return []
    checked = _("checked against seq {seq}").format(seq=outcome.stored.seq) if outcome.stored else _("none before")
    moved = _(", advanced to seq {seq}").format(seq=outcome.written.seq) if outcome.written else ""
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


def register(cli: click.Group) -> None:
    cli.add_command(audit)
