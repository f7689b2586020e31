"""Attachments: receipts and e-invoices added to a document, and reading them back.

The file is the request body itself, sent with its own content type (application/pdf, image/png,
image/jpeg, application/ofd, application/xml or text/xml) and its name in ``?filename=``; the engine checks
the content against the declared type, the size (10 MiB) and who may add it. A claim form's ``receipts`` list
then names the returned ids.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import marshmallow as ma
from flask import Response, request
from werkzeug.exceptions import NotFound

from engine.domain.attachments import TYPES
from engine.services import attachments
from web.api import bodies
from web.api.auth import current, roles
from web.api.blueprint import api_blueprint
from web.api.document_schemas import AttachmentSchema
from web.context import container

blp = api_blueprint("Attachments", __name__, url_prefix="/api/v1", description="Receipts and e-invoices")

UPLOADERS = ("employee", "manager", "finance", "budget_admin", "admin")
READERS = (*UPLOADERS, "auditor", "process_designer")
ATTACHMENT = "<string(minlength=16, maxlength=40):attachment_id>"


class UploadArgs(ma.Schema):
    filename = ma.fields.String(required=True, validate=ma.validate.Length(1, 255),
                                metadata={"description": "the file's name, for display"})


FILE_BODY = {"requestBody": {"required": True, "content": {
    kind: {"schema": {"type": "string", "format": "binary"}} for kind in sorted(TYPES)}}}


@blp.route("/documents/<string(maxlength=100):document_no>/attachments", methods=["POST"])
@roles(*UPLOADERS)
@blp.arguments(UploadArgs, location="query")
@blp.doc(**FILE_BODY)
@blp.response(201, AttachmentSchema)
def upload(args: dict[str, Any], document_no: str) -> dict[str, Any]:
    """Attach a receipt or e-invoice (the body is the file) to a document: its applicant, or whoever may act on
    it now. 422 (ATTACHMENT_REJECTED) for a file of another kind than declared, empty or over 10 MiB."""
    attachment_id = attachments.add_attachment(container().uow, document_no=document_no, uploader=current().code,
                                               filename=args["filename"], content_type=request.content_type or "",
                                               data=request.get_data(cache=False))
    found = attachments.attachment(container().reader, attachment_id, current().code)
    if found is None:  # added a moment ago by someone who may see the document: cannot happen
        raise NotFound(f"attachment {attachment_id} is gone")
    return found[0]


@blp.route(f"/attachments/{ATTACHMENT}")
@roles(*READERS)
@blp.doc(responses={"200": {"description": "the file, with its content type",
                            "content": {kind: {"schema": {"type": "string", "format": "binary"}}
                                        for kind in sorted(TYPES)}}})
def download(attachment_id: str) -> Response:
    """The file itself, to whoever may see its document; 404 otherwise."""
    found = attachments.attachment(container().reader, attachment_id, current().code)
    if found is None:
        raise NotFound(f"no attachment {attachment_id} that this token may see")
    meta, data = found
    disposition = f"attachment; filename*=UTF-8''{quote(meta['filename'])}"
    return Response(data, mimetype=meta["content_type"], headers={"Content-Disposition": disposition})


bodies.accepts_upload("Attachments.upload", *sorted(TYPES))
