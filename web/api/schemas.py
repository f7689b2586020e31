"""Schemas several parts of the API answer with."""

from __future__ import annotations

import marshmallow as ma

from web.api.fields import DecimalText, Money, UtcTime


class OpenTaskSchema(ma.Schema):
    task_guid = ma.fields.String(required=True)
    bpmn_id = ma.fields.String(required=True)
    title = ma.fields.String(allow_none=True)
    lane = ma.fields.String(allow_none=True)
    candidates = ma.fields.List(ma.fields.String(), required=True)
    due_at = UtcTime(allow_none=True)


class OutcomeSchema(ma.Schema):
    """Where a document stands after a step: its status, outcome and the tasks now open."""

    instance_id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={"description": "running, waiting, complete or incident"})
    outcome = ma.fields.String(allow_none=True, metadata={"description": "approved, rejected, posted... when known"})
    open_tasks = ma.fields.List(ma.fields.Nested(OpenTaskSchema, unknown=ma.EXCLUDE), required=True)


class SummarySchema(ma.Schema):
    """What a document is about, as every listing of documents and tasks shows it."""

    document_no = ma.fields.String(required=True)
    process_id = ma.fields.String(required=True)
    subject = ma.fields.String(allow_none=True)
    amount = Money(allow_none=True)
    currency = ma.fields.String(allow_none=True)
    purpose = ma.fields.String(allow_none=True)


class DocumentStateSchema(SummarySchema):
    """A document's summary with where it stands."""

    status = ma.fields.String(required=True)
    outcome = ma.fields.String(allow_none=True)
    created_at = UtcTime(required=True)
    completed_at = UtcTime(allow_none=True)
    linked_document = ma.fields.String(allow_none=True, metadata={"description": "the application a claim draws on"})


class LineBalanceSchema(ma.Schema):
    """A budget line and its balances (the budget listing and a document's budget panel)."""

    line_id = ma.fields.Integer(required=True)
    period = ma.fields.String(required=True)
    org_unit = ma.fields.String(allow_none=True)
    org_unit_name = ma.fields.String(allow_none=True)
    subject = ma.fields.String(required=True)
    subject_name = ma.fields.String(required=True)
    currency = ma.fields.String(required=True)
    control_mode = ma.fields.String(required=True, metadata={"description": "FORBID, WARN or NONE"})
    tolerance_pct = DecimalText(required=True)
    allocated = Money(required=True)
    reserved = Money(required=True)
    consumed = Money(required=True)
    available = Money(required=True)
