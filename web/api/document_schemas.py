"""The shapes of documents in the API: a document with its history, budget panel and path, a row of my
documents, what can be started, and the bodies that start or withdraw one."""

from __future__ import annotations

import marshmallow as ma

from engine.services import document_actions, my_documents
from web.api.fields import Money, UtcTime
from web.api.paging import PageArgs
from web.api.schemas import DocumentStateSchema, LineBalanceSchema, OutcomeSchema, SummarySchema


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


class PanelLineSchema(LineBalanceSchema):
    """A budget line the document touches, before and after this request."""

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


class AttachmentSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"description": "what a form's receipts list names"})
    document_no = ma.fields.String(required=True)
    uploaded_by = ma.fields.String(required=True)
    filename = ma.fields.String(required=True)
    content_type = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True)
    sha256 = ma.fields.String(required=True)
    created_at = UtcTime(required=True)


class DocumentSchema(DocumentStateSchema):
    applicant = ma.fields.String(required=True)
    applicant_name = ma.fields.String(allow_none=True)
    org_unit = ma.fields.String(allow_none=True)
    org_unit_name = ma.fields.String(allow_none=True)
    claims = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "claims drawing on it"})
    voucher_no = ma.fields.String(allow_none=True)
    history = ma.fields.List(ma.fields.Nested(HistorySchema), required=True)
    open_tasks = ma.fields.List(ma.fields.Nested(DocumentTaskSchema), required=True)
    may_withdraw = ma.fields.Boolean(required=True)
    budget = ma.fields.List(ma.fields.Nested(PanelLineSchema), required=True)
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema), required=True)
    path = ma.fields.Nested(PathSchema, allow_none=True, attribute="picture")


class WithdrawBody(ma.Schema):
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(0, document_actions.MAX_REASON))


class StartBody(ma.Schema):
    process_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 100), metadata={
        "description": "travel_application, expense_claim, ... (GET /startable-processes)"})
    data = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(1, 100)), load_default=dict,
                          metadata={"description": "the start form's fields; the applicant then submits the first "
                                                   "task (POST /tasks/{guid}/complete)"})
    application_no = ma.fields.String(validate=ma.validate.Length(1, 100), metadata={
        "description": "a claim: the caller's approved application it draws on (GET /approved-applications)"})


class StartedSchema(ma.Schema):
    document_no = ma.fields.String(required=True)
    outcome = ma.fields.Nested(OutcomeSchema, required=True)


class MineArgs(PageArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(my_documents.FILTERS),
                              metadata={"description": "open (anything not finished), complete, or an exact status"})


class DocumentRowSchema(DocumentStateSchema):
    instance_id = ma.fields.Integer(required=True)
    current_step = ma.fields.String(allow_none=True, metadata={"description": "the open task's title"})
    waiting_for = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "who may act now"})
    may_withdraw = ma.fields.Boolean(required=True)


class StartableSchema(ma.Schema):
    process_id = ma.fields.String(required=True)
    name = ma.fields.String(allow_none=True)
    version_id = ma.fields.Integer(required=True)
    schema = ma.fields.Dict(allow_none=True, metadata={"description": "the start form's JSON Schema"})


class ApplicationSchema(SummarySchema):
    completed_at = UtcTime(allow_none=True)
    reservation_id = ma.fields.Integer(required=True)
    remaining = Money(required=True, metadata={"description": "what is still reserved for it"})
