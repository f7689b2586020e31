"""``budgetflow info``: which database, instance folder, audit key and model version this command line uses.

It works before ``init`` and with a database that cannot be reached: it says so on the line
concerned, then once more as the error line on stderr, with the exit code any command would
give for it (1 unreachable, 2 misconfigured), instead of stopping at the first problem, because that is when
people run it. It never creates the SQLite file, and never shows the audit key itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url

from engine.audit_key import anchor_file_path, key_source
from engine.cli import failures
from engine.cli.app import package_version
from engine.cli.base import command
from engine.cli.context import App, pass_app
from engine.cli.i18n import _, language
from engine.cli.output import emit_json, json_option, note, say
from engine.config import redact_url
from engine.persistence import schema
from engine.services import read_models


@command("info", examples=("budgetflow info", "budgetflow info --json"))
@json_option
@pass_app
def info(app: App, as_json: bool) -> int:
    """Show the database, instance folder, audit key source and model version in use.

    Works before `budgetflow init`. The audit key itself is never shown, only where it comes from.
    """
    settings = app.settings
    key_kind, key_path = key_source(settings)
    found: dict[str, Any] = {
        "version": package_version(),
        "database": _database(settings.database_url),
        "instance_dir": str(settings.instance_dir), "instance_dir_exists": settings.instance_dir.is_dir(),
        "audit_key": {"source": key_kind, "path": None if key_path is None else str(key_path),
                      "exists": None if key_path is None else key_path.is_file()},
        "audit_anchor_file": str(anchor_file_path(settings)),
        "language": language(),
    }
    found.update(_schema_and_model(app, found["database"]))
    if as_json:
        emit_json(found)
    else:
        _print(found)
    problem = found["schema"]["problem"]
    if problem is None:
        return 0
    note(_("error: {message}").format(message=problem))  # the one line on stderr every failure gets
    return int(found["schema"]["exit_code"])


def _database(url: str) -> dict[str, Any]:
    parsed = make_url(url)
    file = parsed.database if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, ":memory:") \
        else None
    return {"url": redact_url(url), "kind": parsed.get_backend_name(), "file": file,
            "exists": None if file is None else Path(file).is_file()}


def _schema_and_model(app: App, database: dict[str, Any]) -> dict[str, Any]:
    head = schema.head_revision()
    if database["exists"] is False:  # connecting would create an empty SQLite file
        return {"schema": {"revision": None, "head": head, "state": "not_initialised", "problem": None}, "model": None}
    try:
        revision = read_models.schema_revision(app.reader)
        model = read_models.deployed_model(app.reader) if revision is not None else None
    except Exception as exc:  # shown on its line: the rest of the report still helps
        line, code = failures.explain(exc, app.settings.database_url)
        return {"schema": {"revision": None, "head": head, "state": "unreachable", "problem": line,
                           "exit_code": code}, "model": None}
    state = "not_initialised" if revision is None else "current" if revision == head else "outdated"
    return {"schema": {"revision": revision, "head": head, "state": state, "problem": None}, "model": model}


def _print(found: dict[str, Any]) -> None:
    db, key, sch, model = found["database"], found["audit_key"], found["schema"], found["model"]
    missing = "  " + _("(the file does not exist yet)") if db["exists"] is False else ""
    say(_("budgetflow {version}").format(version=found["version"]))
    say(_("database:        {url}").format(url=db["url"]) + missing)
    folder_note = "" if found["instance_dir_exists"] else "  " + _("(does not exist yet)")
    say(_("instance folder: {path}").format(path=found["instance_dir"]) + folder_note)
    say(_("audit key:       {source}").format(source=_key_text(key)))
    say(_("audit anchor:    {path}").format(path=found["audit_anchor_file"]))
    say(_("schema:          {state}").format(state=_schema_text(sch)))
    say(_("model version:   {model}").format(model=_model_text(model)))


def _key_text(key: dict[str, Any]) -> str:
    if key["source"] == "environment":
        return _("from the environment (BUDGETFLOW_AUDIT_KEY)")
    absent = "" if key["exists"] else " " + _("(not there: it is created by the first command that writes)")
    if key["source"] == "key_file":
        return _("key file {path} (BUDGETFLOW_AUDIT_KEY_FILE)").format(path=key["path"]) + ("" if key["exists"]
                                                                                           else " " + _("(missing)"))
    return _("development key file {path}").format(path=key["path"]) + absent


def _schema_text(sch: dict[str, Any]) -> str:
    if sch["state"] == "unreachable":
        return _("unknown: {problem}").format(problem=sch["problem"])
    if sch["state"] == "not_initialised":
        return _("not initialised — run budgetflow init")
    if sch["state"] == "outdated":
        return _("revision {revision}, older than {head} — run budgetflow init to upgrade").format(**sch)
    return _("revision {revision} (up to date)").format(**sch)


def _model_text(model: dict[str, Any] | None) -> str:
    if model is None:
        return _("none deployed")
    return _("{id} ({sha}), deployed {at:%Y-%m-%d %H:%M:%S} UTC by {by}: {processes}").format(
        id=model["id"], sha=model["sha256"][:12], at=model["deployed_at"], by=model["deployed_by"],
        processes=model["process_ids"])


def register(cli: click.Group) -> None:
    cli.add_command(info)
