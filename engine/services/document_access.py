"""Who may see a document and its tasks, and a read-only look at its workflow: shared by the read models.

Seen by: the applicant; anyone a task of the document was offered to, assigned to, completed by or
delegated by; and the roles that oversee every document (finance, budget_admin, admin, auditor). The viewer
must be an active employee. Nothing here locks or writes.
"""

from __future__ import annotations

import logging
from typing import Any

from engine.services.ports import UnitOfWork
from engine.services.steps import bundle_of
from engine.workflow.bundle import Bundle
from engine.workflow.errors import BundleInvalid, StepFailed
from engine.workflow.runtime import WorkflowRun
from engine.workflow.service_tasks import new_script_engine

log = logging.getLogger(__name__)
OVERSEERS = frozenset({"finance", "budget_admin", "admin", "auditor"})


def may_see(uow: UnitOfWork, document: dict[str, Any], tasks: list[dict[str, Any]], viewer: str) -> bool:
    """Whether active employee ``viewer`` may see ``document`` (its row) given all its ``tasks``."""
    person = uow.accounts.identity(viewer) if isinstance(viewer, str) else None
    if person is None or not person["active"]:
        return False
    if viewer == document["applicant"] or OVERSEERS & set(person["roles"]):
        return True
    return any(viewer in t["candidates"] or viewer in (t["assignee"], t["completed_by"], t["delegated_by"])
               for t in tasks)


def visible_document(uow: UnitOfWork, document_no: str, viewer: str
                     ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """(document row, its tasks) when ``viewer`` may see document ``document_no``, else None."""
    document = uow.documents.document(document_no) if isinstance(document_no, str) else None
    if document is None:
        return None
    tasks = uow.documents.tasks(document["id"])
    return (document, tasks) if may_see(uow, document, tasks, viewer) else None


def snapshot(uow: UnitOfWork, document: dict[str, Any]) -> tuple[Bundle | None, WorkflowRun | None]:
    """The document's bundle and workflow as saved, without a lock; (bundle, None) for a state that cannot
    load (an incident's poisoned state, say): a page about it still shows what the tables hold."""
    try:
        bundle = bundle_of(uow, document["model_sha"])
    except (BundleInvalid, LookupError):
        return None, None
    state = uow.documents.state(document["id"])
    if not state:
        return bundle, None
    try:
        return bundle, WorkflowRun.load(state, new_script_engine())
    except StepFailed as failed:
        log.warning("document %s: saved state cannot be loaded for display: %s", document["document_no"],
                    failed.reason)
        return bundle, None
