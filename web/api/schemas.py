"""Schemas several parts of the API answer with."""

from __future__ import annotations

import marshmallow as ma

from web.api.fields import UtcTime


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
