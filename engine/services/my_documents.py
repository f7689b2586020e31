"""An applicant's side: their documents, what they can start, and what a claim can be linked to."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from engine.services import cursors
from engine.services.document_basics import DocumentBasics
from engine.services.ports import UnitOfWorkFactory
from engine.services.steps import bundle_of
from engine.workflow.bundle import Bundle
from engine.workflow.entry_points import EntryPoint, entry_points
from engine.workflow.errors import BundleInvalid

MAX_LIMIT = 200
STATUSES = ("new", "running", "waiting", "user_input_required", "incident", "complete")
FILTERS = ("open", "complete", *STATUSES[:-1])  # open: anything not complete yet


@dataclass(frozen=True)
class DocumentRow(DocumentBasics):
    current_step: str | None  # the title of an open task, if any
    waiting_for: list[str]  # who may act on it now, by name
    may_withdraw: bool  # the run waits for the applicant's withdraw message


@dataclass(frozen=True)
class DocumentPage:
    rows: list[DocumentRow]
    next_cursor: str | None


def my_documents(reader: UnitOfWorkFactory, employee: str, *, status: str | None = None,
                 cursor: str | None = None, limit: int = 50) -> DocumentPage:
    """``employee``'s documents, newest first. ``status``: ``open`` (not complete), ``complete``, or one of the
    instance statuses; ValueError for another, a bad cursor or a limit outside 1..200."""
    if status is not None and status not in FILTERS:
        raise ValueError(f"status {status!r}: one of {', '.join(FILTERS)}")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit {limit!r}: a whole number from 1 to {MAX_LIMIT}")
    scope = cursors.scope("my_documents", status)
    before = cursors.decode(cursor, scope, "int")[1] if cursor else None
    complete = {"open": False, "complete": True}.get(status or "")
    statuses = [status] if status and status not in ("open", "complete") else None
    with reader() as uow:
        rows = uow.documents.mine(employee, statuses=statuses, complete=complete, before=before, limit=limit + 1)
        more, rows = len(rows) > limit, rows[:limit]
        tasks = uow.documents.open_tasks_of([r["id"] for r in rows])
        people = {code for t in tasks for code in ([t["assignee"]] if t["assignee"] else t["candidates"])}
        names = uow.documents.names(sorted(people))
    next_cursor = cursors.encode(scope, rows[-1]["id"], rows[-1]["id"]) if more else None
    return DocumentPage([_row(r, [t for t in tasks if t["instance_id"] == r["id"]], names) for r in rows], next_cursor)


def _row(doc: dict[str, Any], tasks: list[dict[str, Any]], names: dict[str, str]) -> DocumentRow:
    waiting = [code for t in tasks for code in ([t["assignee"]] if t["assignee"] else t["candidates"])]
    return DocumentRow(
        **DocumentBasics.basics(doc), current_step=tasks[0]["title"] if tasks else None,
        waiting_for=[names.get(code, code) for code in dict.fromkeys(waiting)],
        may_withdraw=bool(doc["withdrawable"]) and doc["status"] != "complete")


def startable(reader: UnitOfWorkFactory) -> list[dict[str, Any]]:
    """The processes a person can start: the entry points of the active version of each, by process id;
    each with ``process_id``, ``name``, ``version_id`` and ``schema`` (its first form's JSON Schema, or None)."""
    with reader() as uow:
        by_id = {v["id"]: v for v in uow.instances.versions(instance_counts=False)}
        latest = {process_id: by_id[version_id] for process_id, version_id in uow.instances.active_versions().items()
                  if version_id in by_id}
        found = {}
        for version in {v["id"]: v for v in latest.values()}.values():
            try:
                bundle = bundle_of(uow, version["sha256"])
            except BundleInvalid:
                continue
            for entry in entry_points(bundle):
                if latest.get(entry.process_id) is version:
                    found[entry.process_id] = {"process_id": entry.process_id, "name": entry.name,
                                               "version_id": version["id"], "schema": _schema(bundle, entry)}
    return [found[k] for k in sorted(found)]


def _schema(bundle: Bundle, entry: EntryPoint) -> dict[str, Any] | None:
    if not entry.form_key:
        return None
    try:
        return copy.deepcopy(bundle.form(entry.diagram_file, entry.form_key).schema)
    except BundleInvalid:
        return None


def approved_applications(reader: UnitOfWorkFactory, employee: str) -> list[dict[str, Any]]:
    """``employee``'s approved applications a claim can draw on: an open reservation, no claim running on it.
    Each: document_no, process_id, subject, amount, currency, purpose, completed_at, reservation_id, remaining."""
    with reader() as uow:
        return uow.documents.approved_applications(employee)
