"""The parts the task and document pages share: the document, its budget panel, its files."""

from __future__ import annotations

from typing import Any

from engine.services import attachments as attachment_store
from engine.services.budget_panel import PanelLine, budget_panel
from engine.services.document_views import DocumentView, document_view
from web.pages.common import reader


def document(document_no: str, viewer: str) -> DocumentView | None:
    return document_view(reader(), document_no, viewer)


def budget(document_no: str, viewer: str) -> list[PanelLine]:
    return budget_panel(reader(), document_no, viewer) or []


def attachments(document_no: str) -> list[dict[str, Any]]:
    """The document's files (call it only for a document the viewer has been shown: the read model does not
    check who asks)."""
    return list(attachment_store.attachments_of(reader(), document_no))
