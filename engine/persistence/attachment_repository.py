"""Files attached to documents (``uow.attachments``): stored in the database with their SHA-256."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from engine.persistence.types import utcnow
from engine.persistence.web_tables import Attachment

_att = Attachment.__table__
META = (_att.c.id, _att.c.document_no, _att.c.uploaded_by, _att.c.filename, _att.c.content_type, _att.c.size,
        _att.c.sha256, _att.c.created_at)


class SqlAttachmentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, *, attachment_id: str, document_no: str, uploaded_by: str, filename: str, content_type: str,
            data: bytes, sha256: str) -> None:
        self.conn.execute(insert(_att).values(
            id=attachment_id, document_no=document_no, uploaded_by=uploaded_by, filename=filename,
            content_type=content_type, size=len(data), sha256=sha256, data=data, created_at=utcnow()))

    def get(self, attachment_id: str) -> tuple[dict[str, Any], bytes] | None:
        row = self.conn.execute(select(*META, _att.c.data).where(_att.c.id == attachment_id)).first()
        if row is None:
            return None
        meta = dict(row._mapping)
        return meta, bytes(meta.pop("data"))

    def of_document(self, document_no: str) -> list[dict[str, Any]]:
        stmt = select(*META).where(_att.c.document_no == document_no).order_by(_att.c.created_at, _att.c.id)
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def ids_of(self, document_no: str) -> set[str]:
        return {str(i) for i in self.conn.execute(select(_att.c.id).where(_att.c.document_no == document_no))
                .scalars()}
