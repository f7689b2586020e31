"""Tasks: the inbox, one task with its form, and acting on it (complete, delegate, claim, release).

Who may act is the engine's rule, checked when the action happens (a candidate or the assignee, active,
never the applicant approving their own request); the API adds only that the token acts with a role
that works on tasks. A refused action is a 403 and changes nothing.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from werkzeug.exceptions import NotFound

from engine.services import inbox, processes, task_views
from engine.services import tasks as task_services
from engine.services.steps import Outcome
from web.api.auth import current, roles
from web.api.blueprint import api_blueprint
from web.api.fields import UtcTime
from web.api.paging import PageArgs, page, page_schema
from web.api.schemas import OutcomeSchema, SummarySchema
from web.context import container

blp = api_blueprint("Tasks", __name__, url_prefix="/api/v1/tasks", description="The inbox and acting on tasks")

# Roles that work on tasks; an auditor or a process designer token reads, it does not decide.
WORKERS = ("employee", "manager", "finance", "budget_admin", "admin")
READERS = (*WORKERS, "auditor", "process_designer")
GUID = "<string(length=36):task_guid>"


class InboxArgs(PageArgs):
    view = ma.fields.String(load_default="mine", validate=ma.validate.OneOf(inbox.VIEWS))
    sort = ma.fields.String(load_default="age", validate=ma.validate.OneOf(list(inbox.SORTS)))
    descending = ma.fields.Boolean(load_default=False)
    process = ma.fields.String(validate=ma.validate.Length(1, 64), metadata={"description": "a process id"})
    text = ma.fields.String(validate=ma.validate.Length(1, inbox.MAX_TEXT),
                            metadata={"description": "document number prefix, applicant code or name, subject"})


class InboxRowSchema(SummarySchema):
    task_guid = ma.fields.String(required=True)
    bpmn_id = ma.fields.String(required=True)
    title = ma.fields.String(allow_none=True)
    lane = ma.fields.String(allow_none=True)
    instance_id = ma.fields.Integer(required=True)
    applicant = ma.fields.String(required=True)
    applicant_name = ma.fields.String(allow_none=True)
    created_at = UtcTime(required=True)
    due_at = UtcTime(allow_none=True)
    assignee = ma.fields.String(allow_none=True)
    candidate_count = ma.fields.Integer(required=True)
    completed_at = UtcTime(allow_none=True)
    completed_by = ma.fields.String(allow_none=True)


class InboxCountsSchema(ma.Schema):
    mine = ma.fields.Integer(required=True)
    claimable = ma.fields.Integer(required=True)
    delegated = ma.fields.Integer(required=True)
    done = ma.fields.Integer(required=True)


class InboxPageSchema(page_schema(InboxRowSchema, "InboxRows")):  # type: ignore[misc]
    counts = ma.fields.Nested(InboxCountsSchema, required=True)


class TaskSchema(InboxRowSchema):
    """One task with its form: what the viewer sees and may do now."""

    status = ma.fields.String(required=True, metadata={"description": "open, completed or cancelled"})
    form_key = ma.fields.String(allow_none=True)
    instructions = ma.fields.String(required=True, metadata={"description": "Markdown from the diagram"})
    may_act = ma.fields.Boolean(required=True, metadata={"description": "the caller may complete it now"})
    may_claim = ma.fields.Boolean(required=True)
    may_delegate = ma.fields.Boolean(required=True)
    schema = ma.fields.Dict(allow_none=True, metadata={"description": "the form's JSON Schema"})
    values = ma.fields.Dict(required=True, metadata={"description": "the form's current values"})
    decisions = ma.fields.List(ma.fields.String(), required=True,
                               metadata={"description": "the decision field's choices, in order"})


class CompleteBody(ma.Schema):
    decision = ma.fields.String(validate=ma.validate.Length(1, 64),
                                metadata={"description": "one of the task's decisions (GET /tasks/{guid})"})
    comment = ma.fields.String(validate=ma.validate.Length(0, 2000))
    data = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(1, 100)), load_default=dict,
                          metadata={"description": "the form's fields, as its JSON Schema says"})

    @ma.validates_schema
    def _one_value_each(self, body: dict[str, Any], **_kwargs: Any) -> None:
        clash = [k for k in ("decision", "comment") if k in body and k in body["data"] and body[k] != body["data"][k]]
        if clash:
            raise ma.ValidationError({k: ["given twice (also in data) with another value"] for k in clash})


class DelegateBody(ma.Schema):
    to = ma.fields.String(required=True, validate=ma.validate.Length(1, 64),
                          metadata={"description": "employee code of the new holder"})
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(0, 500))


class HeldSchema(ma.Schema):
    task_guid = ma.fields.String(required=True)
    assignee = ma.fields.String(allow_none=True)


def form_of(body: dict[str, Any]) -> dict[str, Any]:
    """The task's form: ``data`` with the decision and the comment, when given beside it."""
    return {**body["data"], **{k: body[k] for k in ("decision", "comment") if k in body}}


@blp.route("")
@roles(*READERS)
@blp.arguments(InboxArgs, location="query")
@blp.response(200, InboxPageSchema)
def list_tasks(args: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """My inbox: one view (mine, claimable, delegated, done), sorted and filtered, a page at a time, with the
    number of tasks in each view."""
    found = inbox.inbox(container().reader, current().code, view=args["view"], sort=args["sort"],
                        descending=args["descending"], process=args.get("process"), text=args.get("text"),
                        cursor=args.get("cursor"), limit=args["limit"])
    body, status, headers = page(found.rows, found.next_cursor)
    return {**body, "counts": found.counts}, status, headers


@blp.route(f"/{GUID}")
@roles(*READERS)
@blp.response(200, TaskSchema)
def get_task(task_guid: str) -> task_views.TaskView:
    """One task with its form's JSON Schema, current values and decisions, and what the caller may do now.
    404 when there is no such task or the caller may not see it."""
    found = task_views.task_view(container().reader, task_guid, current().code)
    if found is None:
        raise NotFound(f"no task {task_guid} that this token may see")
    return found


@blp.route(f"/{GUID}/complete", methods=["POST"])
@roles(*WORKERS)
@blp.arguments(CompleteBody)
@blp.response(200, OutcomeSchema)
def complete(body: dict[str, Any], task_guid: str) -> Outcome:
    """Complete a task with its form: `{"decision": "approve", "comment": "...", "data": {...}}` or
    `{"data": {...}}`. A form the task's schema refuses is a 422 naming every field (details.problems)."""
    return processes.complete_task(container().uow, task_guid=task_guid, user=current().code, form=form_of(body))


@blp.route(f"/{GUID}/claim", methods=["POST"])
@roles(*WORKERS)
@blp.response(200, HeldSchema)
def claim(task_guid: str) -> dict[str, Any]:
    """Take a pool task (offered to several: finance, countersign): it becomes the caller's alone."""
    task_services.claim_task(container().uow, task_guid=task_guid, user=current().code)
    return {"task_guid": task_guid, "assignee": current().code}


@blp.route(f"/{GUID}/release", methods=["POST"])
@roles(*WORKERS)
@blp.response(200, HeldSchema)
def release(task_guid: str) -> dict[str, Any]:
    """Give a claimed pool task back: every candidate sees it as claimable again."""
    task_services.release_task(container().uow, task_guid=task_guid, user=current().code)
    return {"task_guid": task_guid, "assignee": None}


@blp.route(f"/{GUID}/delegate", methods=["POST"])
@roles(*WORKERS)
@blp.arguments(DelegateBody)
@blp.response(200, HeldSchema)
def delegate(body: dict[str, Any], task_guid: str) -> dict[str, Any]:
    """Hand the task to a colleague (转交); they alone may then act on it. Never to the applicant."""
    task_services.delegate(container().uow, task_guid=task_guid, user=current().code, to=body["to"],
                           reason=body["reason"])
    return {"task_guid": task_guid, "assignee": body["to"]}
