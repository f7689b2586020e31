"""Documents: one document with its history, open tasks, budget panel and process picture; withdrawing it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from werkzeug.exceptions import NotFound

from engine.services import budget_panel, document_actions, document_views
from engine.services.steps import Outcome
from web.api.auth import current, roles
from web.api.blueprint import api_blueprint
from web.api.fields import Money, UtcTime
from web.api.schemas import OutcomeSchema
from web.context import container

blp = api_blueprint("Documents", __name__, url_prefix="/api/v1/documents",
                    description="Applications and claims: start, list, read, withdraw")

APPLICANTS = ("employee",)
READERS = ("employee", "manager", "finance", "budget_admin", "admin", "auditor", "process_designer")
NUMBER = "<string(maxlength=100):document_no>"


class HistorySchema(ma.Schema):
    at = UtcTime(required=True)
    actor = ma.fields.String(required=True, metadata={"description": "an employee code, or engine / worker"})
    actor_name = ma.fields.String(allow_none=True)
    action = ma.fields.String(required=True, metadata={"description": "process.started, task.completed, ..."})
    detail = ma.fields.Dict(required=True)


class DocumentTaskSchema(ma.Schema):
    task_guid = ma.fields.String(required=True, attribute="guid")
    bpmn_id = ma.fields.String(required=True)
    title = ma.fields.String(allow_none=True)
    lane = ma.fields.String(allow_none=True)
    candidates = ma.fields.List(ma.fields.String(), required=True)
    assignee = ma.fields.String(allow_none=True)


class PanelLineSchema(ma.Schema):
    """A budget line the document touches, before and after this request."""

    line_id = ma.fields.Integer(required=True)
    period = ma.fields.String(required=True)
    org_unit = ma.fields.String(allow_none=True)
    org_unit_name = ma.fields.String(allow_none=True)
    subject = ma.fields.String(required=True)
    subject_name = ma.fields.String(required=True)
    currency = ma.fields.String(required=True)
    control_mode = ma.fields.String(required=True, metadata={"description": "FORBID, WARN or NONE"})
    tolerance_pct = ma.fields.Decimal(as_string=True, required=True)
    allocated = Money(required=True)
    reserved = Money(required=True)
    consumed = Money(required=True)
    available = Money(required=True)
    request_share = Money(required=True, metadata={"description": "this document's amount on the line"})
    available_after = Money(required=True, metadata={"description": "what is left once this request is booked"})
    state = ma.fields.String(required=True, metadata={"description": "ok, warn or over"})


class PathSchema(ma.Schema):
    """Where the document went in its process diagram (GET .../diagram has the diagram itself)."""

    process_id = ma.fields.String(required=True)
    completed = ma.fields.List(ma.fields.String(), required=True)
    current = ma.fields.List(ma.fields.String(), required=True)
    taken_flows = ma.fields.List(ma.fields.String(), required=True)


class DiagramSchema(PathSchema):
    bpmn_xml = ma.fields.String(required=True, metadata={"description": "the BPMN file, with its diagram layout"})


class DocumentSchema(ma.Schema):
    document_no = ma.fields.String(required=True)
    process_id = ma.fields.String(required=True)
    applicant = ma.fields.String(required=True)
    applicant_name = ma.fields.String(allow_none=True)
    org_unit = ma.fields.String(allow_none=True)
    org_unit_name = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True)
    outcome = ma.fields.String(allow_none=True)
    subject = ma.fields.String(allow_none=True)
    amount = Money(allow_none=True)
    currency = ma.fields.String(allow_none=True)
    purpose = ma.fields.String(allow_none=True)
    created_at = UtcTime(required=True)
    completed_at = UtcTime(allow_none=True)
    linked_document = ma.fields.String(allow_none=True, metadata={"description": "the application a claim draws on"})
    claims = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "claims drawing on it"})
    voucher_no = ma.fields.String(allow_none=True)
    history = ma.fields.List(ma.fields.Nested(HistorySchema), required=True)
    open_tasks = ma.fields.List(ma.fields.Nested(DocumentTaskSchema), required=True)
    may_withdraw = ma.fields.Boolean(required=True)
    budget = ma.fields.List(ma.fields.Nested(PanelLineSchema), required=True)
    path = ma.fields.Nested(PathSchema, allow_none=True, attribute="picture")


class WithdrawBody(ma.Schema):
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(0, document_actions.MAX_REASON))


def _visible(document_no: str) -> document_views.DocumentView:
    found = document_views.document_view(container().reader, document_no, current().code)
    if found is None:
        raise NotFound(f"no document {document_no} that this token may see")
    return found


@blp.route(f"/{NUMBER}")
@roles(*READERS)
@blp.response(200, DocumentSchema)
def get_document(document_no: str) -> dict[str, Any]:
    """A document with its history (who did what, when, with comments), open tasks and who holds them, its
    budget panel and where it stands in its process. 404 when it does not exist or the caller may not see it."""
    found = _visible(document_no)
    panel = budget_panel.budget_panel(container().reader, document_no, current().code) or []
    return {**found.__dict__, "budget": panel}


@blp.route(f"/{NUMBER}/diagram")
@roles(*READERS)
@blp.response(200, DiagramSchema)
def get_diagram(document_no: str) -> Any:
    """The document's process diagram (BPMN XML with its layout) and the path taken, for a viewer such as
    bpmn-js: completed elements, current ones and the sequence flows taken."""
    found = _visible(document_no)
    if found.picture is None:
        raise NotFound(f"the diagram of {document_no} is not available")
    return found.picture


@blp.route(f"/{NUMBER}/withdraw", methods=["POST"])
@roles(*APPLICANTS)
@blp.arguments(WithdrawBody)
@blp.response(200, OutcomeSchema)
def withdraw(body: dict[str, Any], document_no: str) -> Outcome:
    """The applicant takes back a pending document; refused (403) once it is decided or for anyone else."""
    return document_actions.withdraw(container().uow, document_no=document_no, user=current().code,
                                     reason=body["reason"])
