"""Processes: deployed model versions, publishing a new one, incidents and retrying them."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from werkzeug.exceptions import NotFound

from engine.services import instance_admin, processes, read_models
from engine.services.steps import Outcome
from web.api import bodies, uploads
from web.api.auth import current, roles
from web.api.blueprint import api_blueprint, id_in_path
from web.api.fields import UtcTime
from web.api.schemas import OutcomeSchema
from web.context import container

blp = api_blueprint("Processes", __name__, url_prefix="/api/v1", description="Process versions and incidents")

BUNDLE_SUFFIXES = (".bpmn", ".dmn", ".schema.json")  # what `budgetflow bpmn deploy` reads from a folder
DESIGNERS = ("process_designer",)
OPERATORS = ("admin", "process_designer")


def bundle_file(name: str) -> bool:
    return uploads.plain_name(name, folders=True) and name.endswith(BUNDLE_SUFFIXES)


class VersionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    sha256 = ma.fields.String(required=True)
    process_ids = ma.fields.List(ma.fields.String(), required=True)
    label = ma.fields.String(allow_none=True)
    deployed_by = ma.fields.String(allow_none=True)
    deployed_at = UtcTime(allow_none=True)
    instances = ma.fields.Integer(required=True, metadata={"description": "instances running or run on it"})

    @ma.pre_dump
    def _split(self, row: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        ids = row["process_ids"]  # stored comma-separated
        return {**row, "process_ids": ids.split(",") if isinstance(ids, str) else ids}


class LabelArgs(ma.Schema):
    label = ma.fields.String(validate=ma.validate.Length(1, 100), metadata={"description": "a note for the version"})


class DeployBody(LabelArgs):
    files = uploads.FilesField(bundle_file, "file path (folders allowed) -> text: *.bpmn, *.dmn, *.schema.json")


class DeployedSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    sha256 = ma.fields.String(required=True)


UPLOAD_DOC = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": DeployBody},
    "application/zip": {"schema": {"type": "string", "format": "binary"}},
}}, "parameters": [{"in": "query", "name": "label", "required": False, "schema": {"type": "string", "maxLength": 100},
                    "description": "with a zip body: a note for the version"}]}


@blp.route("/process-versions")
class Versions(MethodView):
    @roles(*OPERATORS, "auditor")
    @blp.response(200, VersionSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Every deployed model version, oldest first, with how many instances run on it."""
        return read_models.model_versions(container().reader)

    @roles(*DESIGNERS)
    @blp.doc(**UPLOAD_DOC)
    @blp.response(201, DeployedSchema)
    def post(self) -> dict[str, Any]:
        """Publish a bundle of diagrams and forms as a new model version.

        Every `budgetflow bpmn check` rule runs first: a bundle with problems is refused whole (422, the
        problems as file:element-id: message lines in details.problems). Running documents keep their version.
        """
        files, fields = uploads.files_of_request(DeployBody(), LabelArgs(), bundle_file)
        version_id, sha = processes.deploy(container().uow, files, by=current().code, label=fields.get("label"))
        return {"id": version_id, "sha256": sha}


class JobIncidentSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    instance_id = ma.fields.Integer(allow_none=True)
    operator = ma.fields.String(required=True)
    attempts = ma.fields.Integer(required=True)
    last_error = ma.fields.String(allow_none=True)


class InstanceIncidentSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    document_no = ma.fields.String(required=True, attribute="business_key")
    process_id = ma.fields.String(required=True)
    applicant = ma.fields.String(required=True)
    last_error = ma.fields.String(allow_none=True)
    updated_at = UtcTime(allow_none=True)


class IncidentsSchema(ma.Schema):
    jobs = ma.fields.List(ma.fields.Nested(JobIncidentSchema), required=True)
    instances = ma.fields.List(ma.fields.Nested(InstanceIncidentSchema), required=True)


class RetriedSchema(ma.Schema):
    job_id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={"description": "pending: queued to run again"})


@blp.route("/incidents")
@roles(*OPERATORS, "auditor")
@blp.response(200, IncidentsSchema)
def incidents() -> read_models.Incidents:
    """Connector jobs that gave up after their retries, and instances whose step failed."""
    return read_models.incidents(container().reader)


@blp.route(f"/incidents/{id_in_path('job_id')}/retry", methods=["POST"])
@roles(*OPERATORS)
@blp.response(200, RetriedSchema)
def retry_job(job_id: int) -> dict[str, Any]:
    """Queue a connector job that gave up to run again, its attempts reset (audited)."""
    if not any(job["id"] == job_id for job in read_models.incidents(container().reader).jobs):
        raise NotFound(f"job {job_id} is not an open incident (GET /api/v1/incidents lists them)")
    instance_admin.retry_job(container().uow, job_id=job_id, by=current().code)
    return {"job_id": job_id, "status": "pending"}


@blp.route(f"/incidents/instances/{id_in_path('instance_id')}/retry", methods=["POST"])
@roles("admin")
@blp.response(200, OutcomeSchema)
def retry_instance(instance_id: int) -> Outcome:
    """Run an instance in incident again after its cause is fixed (admin; audited)."""
    return instance_admin.retry(container().uow, instance_id=instance_id, by=current().code)


bodies.accepts_upload("Processes.Versions", *uploads.ZIP_TYPES)
