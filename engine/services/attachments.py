"""Receipts and e-invoices attached to documents: who may add them, who may read them.

The document's applicant, or whoever may act on one of its open tasks, adds files (engine/domain/attachments.py
says which); whoever may see the document reads them. A claim form's ``receipts`` list names attachments by
id, and completing the task refuses an id that is not an attachment of that document.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from engine.domain.attachments import check_file
from engine.services.document_access import visible_document
from engine.services.ports import UnitOfWorkFactory
from engine.services.steps import NotAllowed, audited


def add_attachment(uow_factory: UnitOfWorkFactory, *, document_no: str, uploader: str, filename: str,
                   content_type: str, data: bytes) -> str:
    """Attach a file to ``document_no``; returns its id (a random token). AttachmentRejected for a file that
    is not accepted, NotAllowed (audited) for an uploader who is not the applicant or involved now."""
    checked = check_file(filename, content_type, data)
    with audited(uow_factory, actor=uploader, subject=f"attachment to {document_no}"), uow_factory() as uow:
        document = uow.instances.document(document_no) if isinstance(document_no, str) else None
        if document is None:
            raise NotAllowed(f"there is no document {document_no}")
        involved = uploader == document["applicant"] or uow.instances.involved(document["id"], uploader)
        if not involved or not uow.directory.is_active(uploader):
            raise NotAllowed(f"{uploader} may not attach files to {document_no}: only its applicant or whoever "
                             "may act on it now")
        attachment_id = secrets.token_urlsafe(24)
        digest = hashlib.sha256(data).hexdigest()
        uow.attachments.add(attachment_id=attachment_id, document_no=document_no, uploaded_by=uploader,
                            filename=checked.filename, content_type=checked.content_type, data=bytes(data),
                            sha256=digest)
        uow.record(actor=uploader, action="attachment.added", subject_type="process_instance", subject_id=document_no,
                   payload={"id": attachment_id, "filename": checked.filename, "size": len(data), "sha256": digest})
        uow.commit()
    return attachment_id


def attachment(reader: UnitOfWorkFactory, attachment_id: str, viewer: str) -> tuple[dict[str, Any], bytes] | None:
    """(metadata, content) of an attachment ``viewer`` may see (as they may see its document); else None."""
    with reader() as uow:
        found = uow.attachments.get(attachment_id) if isinstance(attachment_id, str) else None
        if found is None or visible_document(uow, found[0]["document_no"], viewer) is None:
            return None
    return found


def attachments_of(reader: UnitOfWorkFactory, document_no: str) -> list[dict[str, Any]]:
    """Metadata of the document's attachments, oldest first (check the viewer may see the document first):
    id, document_no, uploaded_by, filename, content_type, size, sha256, created_at."""
    with reader() as uow:
        return uow.attachments.of_document(document_no)
