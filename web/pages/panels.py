"""The parts the task and document pages share: the document and its budget panel."""

from __future__ import annotations

from engine.services.budget_panel import PanelLine, budget_panel
from engine.services.document_views import DocumentView, document_view
from web.pages.common import reader


def document(document_no: str, viewer: str) -> DocumentView | None:
    return document_view(reader(), document_no, viewer)


def budget(document_no: str, viewer: str) -> list[PanelLine]:
    return budget_panel(reader(), document_no, viewer) or []
