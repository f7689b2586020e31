"""``budgetflow init``: create or upgrade the schema."""

from __future__ import annotations

import click

from engine.cli.base import command
from engine.cli.context import App, pass_app
from engine.cli.i18n import _
from engine.cli.output import emit_json, json_option, say
from engine.config import redact_url
from engine.persistence import schema


@command("init", examples=("budgetflow init",
                           "BUDGETFLOW_DATABASE_URL=postgresql://app@db:5432/budget budgetflow init"))
@json_option
@pass_app
def init(app: App, as_json: bool) -> int:
    """Create or upgrade the database schema (Alembic).

    Run it once on a new database and again after every upgrade of budgetflow; running it
    on a database that is up to date changes nothing.
    """
    engine = app.creating_container().engine
    before = schema.current_revision(engine)
    schema.upgrade(engine)
    after = schema.current_revision(engine)
    where = redact_url(app.settings.database_url)
    if as_json:
        emit_json({"revision": after, "previous": before, "changed": before != after, "database": where})
        return 0
    change = _("unchanged") if before == after else _("upgraded from {before}").format(
        before=before or _("an empty database"))
    say(_("schema at revision {after} ({change}) on {where}").format(after=after, change=change, where=where))
    return 0


def register(cli: click.Group) -> None:
    cli.add_command(init)
