"""What a person does to a whole document by its number (the web and the API know documents, not instance ids)."""

from __future__ import annotations

from typing import Any

from engine.domain.errors import UnknownInstance
from engine.services import processes
from engine.services.ports import UnitOfWorkFactory
from engine.services.steps import Outcome

MAX_REASON = 500


def withdraw(uow_factory: UnitOfWorkFactory, *, document_no: str, user: str, reason: str = "") -> Outcome:
    """The applicant takes back a pending document (the diagram's ``withdraw`` message); refused when nothing
    waits for it (already decided) or ``user`` is not the applicant, as ``processes.send_message`` rules."""
    with uow_factory() as uow:
        instance_id = uow.instances.id_of(document_no)
    if instance_id is None:
        raise UnknownInstance(f"no document {document_no}")
    payload = {"reason": reason.strip()[:MAX_REASON]} if reason.strip() else {}
    return processes.send_message(uow_factory, instance_id=instance_id, name="withdraw", payload=payload, user=user)


def colleagues(reader: UnitOfWorkFactory, employee: str, *, limit: int = 200) -> list[dict[str, Any]]:
    """Whom ``employee`` may hand a task to (the delegate picker): active people, their own unit first.
    The engine still checks the choice when the task is delegated."""
    with reader() as uow:
        return uow.reports.colleagues(employee, limit=limit)
