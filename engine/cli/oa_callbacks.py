"""``budgetflow oa callbacks``: what became of the OA's callbacks, and applying a failed one again.

An IT team fixing an OA form mapping or a person's OA id wants to see which callbacks failed and why, then
have them applied again without asking the OA to send them anew: ``--retry ID`` puts one back in the queue.
"""

from __future__ import annotations

from typing import Any

import click

from engine.cli.context import App, pass_app
from engine.cli.i18n import N_, _
from engine.cli.oa import oa
from engine.cli.output import emit_json, json_option, say

STATUSES = ("pending", "done", "ignored", "failed")


@oa.command("callbacks", examples=("budgetflow oa callbacks --status failed", "budgetflow oa callbacks --retry 42"))
@click.option("--status", type=click.Choice(STATUSES), default=None, help=N_("only callbacks with this status"))
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True,
              help=N_("how many, newest first"))
@click.option("--retry", "retry_id", type=click.IntRange(min=1), default=None,
              help=N_("apply this failed or ignored callback again (its id from the list)"))
@json_option
@pass_app
def callbacks(app: App, status: str | None, limit: int, retry_id: int | None, as_json: bool) -> int:
    """List the stored OA callbacks and what each did; exit 1 if --retry names no failed or ignored one."""
    inbox = app.container.oa_callbacks()
    if retry_id is not None:
        queued = inbox.requeue(retry_id)
        if as_json:
            emit_json({"retry": retry_id, "queued": queued})
        elif queued:
            say(_("callback {id} is queued again; the worker applies it within seconds").format(id=retry_id))
        else:
            say(_("no failed or ignored callback {id}; see budgetflow oa callbacks --status failed")
                .format(id=retry_id))
        return 0 if queued else 1
    rows = inbox.recent(status=status, limit=limit)
    if as_json:
        emit_json({"callbacks": [_plain(r) for r in rows]})
        return 0
    if not rows:
        say(_("no OA callbacks stored"))
    for row in rows:
        received = f"{row['received_at']:%Y-%m-%d %H:%M:%S}"
        say(f"{row['id']:>6}  {row['vendor']:<8} {row['status']:<8} {row['kind']:<24} {received}"
            + (f"  {row['error']}" if row["error"] else ""))
    return 0


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
