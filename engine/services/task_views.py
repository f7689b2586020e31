"""One task as the task page shows it: the inbox row, its form, its data and what the viewer may do."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from engine.services.document_access import snapshot, visible_document
from engine.services.inbox import InboxRow
from engine.services.ports import UnitOfWork, UnitOfWorkFactory
from engine.services.processes import authorize
from engine.services.steps import NotAllowed
from engine.workflow.errors import BundleInvalid


@dataclass(frozen=True)
class TaskView(InboxRow):
    status: str = "open"  # open, completed, cancelled
    form_key: str | None = None
    instructions: str = ""  # Markdown rendered from the diagram's template (escape it before showing)
    may_act: bool = False  # the viewer may complete (or delegate) it now
    may_claim: bool = False  # a pool task nobody took, the viewer among its candidates
    may_delegate: bool = False
    schema: dict[str, Any] | None = None  # the form's JSON Schema as the engine checks it
    values: dict[str, Any] = field(default_factory=dict)  # the task's data for the schema's fields, JSON-safe
    decisions: list[str] = field(default_factory=list)  # the ``decision`` field's choices, in schema order


def task_view(reader: UnitOfWorkFactory, task_guid: str, viewer: str) -> TaskView | None:
    """Task ``task_guid`` as ``viewer`` sees it; None if there is no such task or they may not see it."""
    with reader() as uow:
        row = uow.inbox.task_row(task_guid) if isinstance(task_guid, str) else None
        seen = visible_document(uow, row["document_no"], viewer) if row else None
        if row is None or seen is None:
            return None
        document = seen[0]
        may_act = row["status"] == "open" and _may_act(uow, task_guid, viewer, document["applicant"])
        bundle, run = snapshot(uow, document)
    form = run.task_form(task_guid) if run is not None else None
    schema = None
    if bundle is not None and form is not None and form.form_key:
        try:
            schema = copy.deepcopy(bundle.form(form.diagram_file, form.form_key).schema)
        except BundleInvalid:
            schema = None
    properties = (schema or {}).get("properties", {})
    values = {k: _plain(v) for k, v in (form.data if form else {}).items() if k in properties}
    return TaskView(
        **{name: row[name] for name in InboxRow.__dataclass_fields__}, status=row["status"], form_key=row["form_key"],
        instructions=form.instructions if form else "", may_act=may_act,
        may_claim=may_act and row["assignee"] is None and row["candidate_count"] >= 2,
        may_delegate=may_act and row["lane"] not in (None, "applicant"), schema=schema, values=values,
        decisions=decisions(schema))


def _may_act(uow: UnitOfWork, task_guid: str, viewer: str, applicant: str) -> bool:
    task = uow.instances.task(task_guid)
    if task is None:
        return False
    try:
        authorize(uow, task, user=viewer, applicant=applicant)
    except NotAllowed:
        return False
    return True


def decisions(schema: dict[str, Any] | None) -> list[str]:
    """The allowed values of the form's ``decision`` field (its oneOf/anyOf consts, or its enum), in order."""
    field_schema = (schema or {}).get("properties", {}).get("decision")
    if not isinstance(field_schema, dict):
        return []
    options = field_schema.get("oneOf") or field_schema.get("anyOf") or []
    found = [o["const"] for o in options if isinstance(o, dict) and isinstance(o.get("const"), str)]
    enum = field_schema.get("enum") or ([field_schema["const"]] if "const" in field_schema else [])
    return found or [v for v in enum if isinstance(v, str)]


def _plain(value: Any) -> Any:
    """JSON data only (a Decimal becomes its text, a date its ISO form)."""
    return json.loads(json.dumps(value, default=str))
