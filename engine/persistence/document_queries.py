"""One document as people see it: its instance, all its tasks, its audit history, claims and voucher
(``uow.documents``); and an applicant's documents, newest first."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, and_, exists, select

from engine.persistence.audit_table import AuditLog
from engine.persistence.tables import Employee, OrgUnit, Reservation
from engine.persistence.workflow_tables import HumanTask, ModelVersion, OutboxJob, ProcessInstance, Voucher

_inst = ProcessInstance.__table__
_task = HumanTask.__table__
_ver = ModelVersion.__table__
_emp = Employee.__table__
_unit = OrgUnit.__table__
_audit = AuditLog.__table__
_job = OutboxJob.__table__
_voucher = Voucher.__table__
_res = Reservation.__table__

DOCUMENT_COLUMNS = (
    _inst.c.id, _inst.c.business_key.label("document_no"), _inst.c.process_id, _inst.c.applicant,
    _emp.c.name.label("applicant_name"), _inst.c.org_unit, _unit.c.name.label("org_unit_name"), _inst.c.status,
    _inst.c.outcome, _inst.c.subject, _inst.c.amount, _inst.c.currency, _inst.c.purpose, _inst.c.created_at,
    _inst.c.completed_at, _inst.c.linked_document, _ver.c.sha256.label("model_sha"))


def documents_select() -> Any:
    """Instances with their applicant's name, unit name and model version (filter and order it further)."""
    return (select(*DOCUMENT_COLUMNS).select_from(
        _inst.join(_ver, _ver.c.id == _inst.c.model_version_id)
        .outerjoin(_emp, _emp.c.code == _inst.c.applicant).outerjoin(_unit, _unit.c.code == _inst.c.org_unit)))


class SqlDocumentQueries:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def document(self, document_no: str) -> dict[str, Any] | None:
        row = self.conn.execute(documents_select().where(_inst.c.business_key == document_no)).first()
        return None if row is None else dict(row._mapping)

    def state(self, instance_id: int) -> str:
        """The saved workflow state, read without a lock (a snapshot for display)."""
        return str(self.conn.execute(select(_inst.c.state).where(_inst.c.id == instance_id)).scalar() or "")

    def tasks(self, instance_id: int) -> list[dict[str, Any]]:
        """Every user task the instance had, oldest first, whatever its status."""
        stmt = (select(_task.c.task_guid, _task.c.bpmn_id, _task.c.title, _task.c.lane, _task.c.candidates,
                       _task.c.assignee, _task.c.status, _task.c.completed_by, _task.c.delegated_by,
                       _task.c.created_at, _task.c.completed_at, _task.c.candidate_count)
                .where(_task.c.instance_id == instance_id).order_by(_task.c.id))
        return [{**r._mapping, "candidates": json.loads(r.candidates or "[]")} for r in self.conn.execute(stmt)]

    def history(self, document_no: str, instance_id: int) -> list[dict[str, Any]]:
        """Audit rows about the document and its connector jobs, in chain order, with actor names."""
        about = (_audit.c.subject_type == "process_instance") & (_audit.c.subject_id == document_no)
        jobs = (_audit.c.subject_type == "outbox_job") & _audit.c.subject_id.startswith(f"{instance_id}:")
        stmt = (select(_audit.c.occurred_at, _audit.c.actor, _emp.c.name, _audit.c.action, _audit.c.payload)
                .outerjoin(_emp, _emp.c.code == _audit.c.actor).where(about | jobs).order_by(_audit.c.seq))
        return [dict(at=at, actor=actor, actor_name=name, action=action, detail=json.loads(payload or "{}"))
                for at, actor, name, action, payload in self.conn.execute(stmt)]

    def drawing_on(self, document_no: str) -> list[str]:
        """Documents linked to this one (the claims on an application), oldest first."""
        return [str(k) for k in self.conn.execute(select(_inst.c.business_key).where(
            _inst.c.linked_document == document_no).order_by(_inst.c.id)).scalars()]

    def voucher_no(self, document_no: str, instance_id: int) -> str | None:
        """The voucher posted for the document: the local ERP's table, else a finished ERP job's result."""
        found = self.conn.execute(select(_voucher.c.voucher_no).where(_voucher.c.document_no == document_no)
                                  .order_by(_voucher.c.id).limit(1)).scalar()
        if found:
            return str(found)
        for (result,) in self.conn.execute(select(_job.c.result).where(
                _job.c.instance_id == instance_id, _job.c.operator == "erp/PostVoucher", _job.c.status == "done")):
            number = json.loads(result or "{}").get("voucher_no")
            if isinstance(number, str):
                return number
        return None

    def mine(self, applicant: str, *, statuses: list[str] | None, complete: bool | None, before: int | None,
             limit: int) -> list[dict[str, Any]]:
        """``applicant``'s documents, newest first (by id), with ``withdrawable``; narrowed by status if asked."""
        stmt = (documents_select().add_columns(_inst.c.withdrawable).where(_inst.c.applicant == applicant)
                .order_by(_inst.c.id.desc()).limit(limit))
        if statuses is not None:
            stmt = stmt.where(_inst.c.status.in_(statuses))
        if complete is not None:
            stmt = stmt.where((_inst.c.status == "complete") if complete else (_inst.c.status != "complete"))
        if before is not None:
            stmt = stmt.where(_inst.c.id < before)
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def open_tasks_of(self, instance_ids: list[int]) -> list[dict[str, Any]]:
        """Open tasks of these instances, oldest first: instance id, title, assignee, candidates."""
        if not instance_ids:
            return []
        stmt = (select(_task.c.instance_id, _task.c.title, _task.c.assignee, _task.c.candidates)
                .where(_task.c.instance_id.in_(instance_ids), _task.c.status == "open").order_by(_task.c.id))
        return [{**r._mapping, "candidates": json.loads(r.candidates or "[]")} for r in self.conn.execute(stmt)]

    def names(self, codes: list[str]) -> dict[str, str]:
        if not codes:
            return {}
        return {c: n for c, n in self.conn.execute(select(_emp.c.code, _emp.c.name).where(_emp.c.code.in_(codes)))}

    def approved_applications(self, applicant: str) -> list[dict[str, Any]]:
        """``applicant``'s approved documents with an open reservation and no flow running on them, newest first."""
        claim = _inst.alias("claim")
        running = exists().where(claim.c.linked_document == _inst.c.business_key, claim.c.status != "complete")
        stmt = (select(_inst.c.business_key.label("document_no"), _inst.c.process_id, _inst.c.subject,
                       _inst.c.amount, _inst.c.currency, _inst.c.purpose, _inst.c.completed_at,
                       _res.c.id.label("reservation_id"),
                       (_res.c.amount - _res.c.consumed - _res.c.released).label("remaining"))
                .join(_res, and_(_res.c.document_ref == _inst.c.business_key, _res.c.status == "open"))
                .where(_inst.c.applicant == applicant, _inst.c.status == "complete", _inst.c.outcome == "approved",
                       ~running).order_by(_inst.c.id.desc(), _res.c.id))
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

