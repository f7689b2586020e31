"""Processes: deployed model versions, publishing and activating them, incidents and retrying them.

Publishing stores a version; it becomes what new documents start on only when it is activated (``activate`` on
publishing, or ``POST .../activate`` later), as ``budgetflow bpmn deploy`` and ``bpmn activate`` do. The first
version of a database is activated at once, since there is nothing else to start on.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask.views import MethodView
from werkzeug.exceptions import NotFound, UnprocessableEntity

from engine.services import instance_admin, processes, read_models
from engine.services.steps import Outcome
from engine.workflow.bundle import DIAGRAM_SUFFIXES, FORM_SUFFIXES
from web.api import bodies, uploads
from web.api.auth import current, roles
from web.api.blueprint import api_blueprint, id_in_path
from web.api.errors import ErrorSchema
from web.api.fields import UtcTime
from web.api.schemas import OutcomeSchema
from web.context import container

blp = api_blueprint("Processes", __name__, url_prefix="/api/v1", description="Process versions and incidents")

BUNDLE_SUFFIXES = DIAGRAM_SUFFIXES + FORM_SUFFIXES  # what `budgetflow bpmn deploy` reads from a folder
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
    running = ma.fields.Integer(required=True, metadata={
        "description": "of those, the ones not complete (they keep this version whatever is activated)"})
    active_for = ma.fields.List(ma.fields.String(), required=True, metadata={
        "description": "the processes whose new instances start on this version (empty: not active)"})
    activated_at = UtcTime(allow_none=True, metadata={"description": "its newest activation, if any"})

    @ma.pre_dump
    def _split(self, row: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        ids = row["process_ids"]  # stored comma-separated
        return {**row, "process_ids": ids.split(",") if isinstance(ids, str) else ids}


ACTIVATE_HELP = "make it what new documents start on now (default false; the first version is activated anyway)"
QUERY_FIELDS = ("label", "activate")  # with a zip body they come in the query string, with JSON in the body


class LabelArgs(ma.Schema):
    """What comes with a zip body, in the query string."""

    label = ma.fields.String(validate=ma.validate.Length(1, 100), metadata={"description": "a note for the version"})
    activate = ma.fields.Boolean(load_default=False, metadata={"description": ACTIVATE_HELP})


class DeployBody(LabelArgs):
    # a JSON boolean only: a string such as "false" would read as a decision the caller did not spell out
    activate = ma.fields.Boolean(load_default=False, truthy={True}, falsy={False},
                                 metadata={"description": ACTIVATE_HELP})
    files = uploads.FilesField(bundle_file,
                               "file path (folders allowed) -> text: *.bpmn, *.dmn, *.schema.json, *-schema.json")


class DeployedSchema(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "the version holding these files"})
    sha256 = ma.fields.String(required=True)
    new = ma.fields.Boolean(required=True, metadata={"description": "false: the same files were published before "
                                                                    "as version `id`; nothing new was stored"})
    activated = ma.fields.Boolean(required=True, metadata={
        "description": "this call made it what new documents start on (asked to, or the first version: `first`)"})
    active = ma.fields.Boolean(required=True, metadata={"description": "it is active for all its processes now"})
    first = ma.fields.Boolean(required=True, metadata={
        "description": "activated although not asked: nothing was active in this database yet"})


class ActivatedSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    activated = ma.fields.Boolean(required=True, metadata={
        "description": "false: it was active for all its processes already; nothing was recorded"})
    active = ma.fields.Boolean(required=True, metadata={"description": "it is active for all its processes now"})
    active_for = ma.fields.List(ma.fields.String(), required=True, metadata={
        "description": "the processes whose new instances start on it"})


def _query_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"in": "query", "name": name, "required": False, "schema": schema, "description": description}


UPLOAD_DOC = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": DeployBody},
    "application/zip": {"schema": {"type": "string", "format": "binary"}},
}}, "parameters": [
    _query_parameter("label", {"type": "string", "maxLength": 100}, "with a zip body: a note for the version"),
    _query_parameter("activate", {"type": "boolean", "default": False}, f"with a zip body: {ACTIVATE_HELP}"),
]}


@blp.route("/process-versions")
class Versions(MethodView):
    @roles(*OPERATORS, "auditor")
    @blp.response(200, VersionSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Every deployed model version, oldest first: which processes it is active for (what new documents
        start on) and its instances, running and in all."""
        return read_models.model_versions(container().reader)

    @roles(*DESIGNERS)
    @blp.doc(**UPLOAD_DOC)
    @blp.response(201, DeployedSchema, description="a new version was stored")
    @blp.alt_response(200, schema=DeployedSchema,
                      description="the same files were published before: that version (`new` false), activated "
                                  "if asked")
    def post(self) -> tuple[dict[str, Any], int]:
        """Publish a bundle of diagrams and forms as a model version; activate it only with `activate` true.

        Every `budgetflow bpmn check` rule runs first: a bundle with problems is refused whole (422, the
        problems as file:element-id: message lines in details.problems). Without `activate` the version waits
        for `POST /process-versions/{id}/activate` (the first version of a database is activated at once).
        Running documents keep their version either way.
        """
        if request.mimetype not in uploads.ZIP_TYPES and any(name in request.args for name in QUERY_FIELDS):
            # honouring only the body would silently ignore a caller's ?activate=true
            raise UnprocessableEntity("with a JSON body, send label and activate in the body; the query string "
                                      "carries them only with a zip body")
        files, fields = uploads.files_of_request(DeployBody(), LabelArgs(), bundle_file)
        done = processes.deploy_version(container().uow, files, by=current().code, label=fields.get("label"),
                                        activate=fields["activate"])
        return {"id": done.version_id, "sha256": done.sha256, "new": done.new, "activated": done.activated,
                "active": done.active, "first": done.first}, 201 if done.new else 200


@blp.route(f"/process-versions/{id_in_path('version_id')}/activate", methods=["POST"])
@roles(*DESIGNERS)
@blp.response(200, ActivatedSchema, description="it is active (`activated` false: it was already)")
@blp.alt_response(404, schema=ErrorSchema, description="there is no such version")
def activate(version_id: int) -> dict[str, Any]:
    """Make a version what new documents of each of its processes start on (audited); a rollback is activating
    an older one. Running documents keep the version they started on."""
    _version_or_404(version_id)
    changed = processes.activate(container().uow, version_id, by=current().code)
    version = _version_or_404(version_id)
    process_ids = {p for p in str(version["process_ids"]).split(",") if p}
    return {"id": version_id, "activated": changed, "active_for": version["active_for"],
            "active": process_ids <= set(version["active_for"])}


def _version_or_404(version_id: int) -> dict[str, Any]:
    found = read_models.model_version(container().reader, version_id)
    if found is None:
        raise NotFound(f"there is no model version {version_id} (GET /api/v1/process-versions lists them)")
    return found


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
