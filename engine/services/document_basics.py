"""The fields every listing and page of a document starts with."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class DocumentBasics:
    document_no: str
    instance_id: int
    process_id: str
    status: str  # new, running, waiting, user_input_required, incident, complete
    outcome: str | None  # approved, rejected, withdrawn, posted, cancelled, budget_refused, ...
    subject: str | None
    amount: Decimal | None
    currency: str | None
    purpose: str | None
    created_at: datetime
    completed_at: datetime | None
    linked_document: str | None  # the application a claim draws on

    @classmethod
    def basics(cls, document: dict[str, Any]) -> dict[str, Any]:
        """These fields of a document row (as engine/persistence/document_queries.py reads it)."""
        return {f.name: document["id"] if f.name == "instance_id" else document[f.name]
                for f in fields(DocumentBasics)}
