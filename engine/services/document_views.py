"""One document as its page shows it: what it is, where it stands, who did what, and its process picture."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.services.document_access import snapshot, visible_document
from engine.services.ports import UnitOfWorkFactory
from engine.workflow.picture import Picture, picture

__all__ = ["DocumentView", "HistoryItem", "Picture", "document_view"]


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    actor: str  # an employee code, or engine / worker / scheduler
    actor_name: str | None
    action: str  # process.started, task.completed, task.delegated, message.withdraw, comment, engine.steps, ...
    detail: dict[str, Any]  # the audit payload: task and decision/comment, steps run, reason, ...


@dataclass(frozen=True)
class DocumentView:
    document_no: str
    instance_id: int
    process_id: str
    applicant: str
    applicant_name: str | None
    org_unit: str | None
    org_unit_name: str | None
    status: str
    outcome: str | None
    subject: str | None
    amount: Decimal | None
    currency: str | None
    purpose: str | None
    created_at: datetime
    completed_at: datetime | None
    linked_document: str | None  # the application a claim draws on
    claims: list[str] = field(default_factory=list)  # documents drawing on this one
    voucher_no: str | None = None
    history: list[HistoryItem] = field(default_factory=list)
    open_tasks: list[dict[str, Any]] = field(default_factory=list)  # guid, bpmn_id, title, lane, candidates, assignee
    may_withdraw: bool = False
    picture: Picture | None = None


def document_view(reader: UnitOfWorkFactory, document_no: str, viewer: str) -> DocumentView | None:
    """Document ``document_no`` as ``viewer`` sees it; None if there is none or they may not see it."""
    with reader() as uow:
        seen = visible_document(uow, document_no, viewer)
        if seen is None:
            return None
        doc, tasks = seen
        history = [HistoryItem(**item) for item in uow.documents.history(document_no, doc["id"])]
        claims = uow.documents.drawing_on(document_no)
        voucher_no = uow.documents.voucher_no(document_no, doc["id"])
        bundle, run = snapshot(uow, doc)
    waiting = run is not None and doc["status"] != "complete" and run.waits_for("withdraw")
    return DocumentView(
        **{k: doc[k] for k in ("document_no", "process_id", "applicant", "applicant_name", "org_unit",
                               "org_unit_name", "status", "outcome", "subject", "amount", "currency", "purpose",
                               "created_at", "completed_at", "linked_document")},
        instance_id=doc["id"], claims=claims, voucher_no=voucher_no, history=history,
        open_tasks=[{"guid": t["task_guid"], **{k: t[k] for k in ("bpmn_id", "title", "lane", "candidates",
                                                                   "assignee")}}
                    for t in tasks if t["status"] == "open"],
        may_withdraw=viewer == doc["applicant"] and waiting,
        picture=picture(bundle, run, doc["process_id"]) if bundle is not None else None)
