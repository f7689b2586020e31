"""Everything a refused request must leave as it was, read straight from the tables.

Refusals are audited on purpose (``access.refused``) and sign-ins and token use are bookkeeping, so the
audit rows compared are those of things done; everything else is compared whole.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.bootstrap import Container
from engine.persistence.audit_table import AuditLog
from engine.persistence.erp_tables import ErpReconciliation
from engine.persistence.tables import BudgetLine, Employee, LedgerEntry, MasterDataImport, Reservation
from engine.persistence.web_tables import Attachment
from engine.persistence.workflow_tables import HumanTask, ModelActivation, ModelVersion, OutboxJob, ProcessInstance

NOT_A_CHANGE = ("access.refused", "auth.signed_in", "auth.refused", "token.issued")


def snapshot(container: Container) -> dict[str, Any]:
    with container.engine.connect() as conn:
        def rows(stmt: Any) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in conn.execute(stmt)]

        return {
            "ledger": rows(select(LedgerEntry.id, LedgerEntry.kind, LedgerEntry.amount).order_by(LedgerEntry.id)),
            "reservations": rows(select(Reservation.id, Reservation.amount, Reservation.consumed, Reservation.released,
                                        Reservation.status).order_by(Reservation.id)),
            "lines": rows(select(BudgetLine.id, BudgetLine.line_key).order_by(BudgetLine.id)),
            "audit": rows(select(AuditLog.action, AuditLog.subject_id).where(AuditLog.action.not_in(NOT_A_CHANGE))
                          .order_by(AuditLog.seq)),
            "instances": rows(select(ProcessInstance.id, ProcessInstance.revision, ProcessInstance.status,
                                     ProcessInstance.outcome).order_by(ProcessInstance.id)),
            "tasks": rows(select(HumanTask.task_guid, HumanTask.status, HumanTask.assignee, HumanTask.delegated_by)
                          .order_by(HumanTask.id)),
            "jobs": rows(select(OutboxJob.id, OutboxJob.status, OutboxJob.attempts).order_by(OutboxJob.id)),
            "versions": rows(select(ModelVersion.id).order_by(ModelVersion.id)),
            "activations": rows(select(ModelActivation.id, ModelActivation.model_version_id)
                                .order_by(ModelActivation.id)),
            "imports": rows(select(MasterDataImport.id).order_by(MasterDataImport.id)),
            "attachments": rows(select(Attachment.id, Attachment.document_no).order_by(Attachment.id)),
            "employees": rows(select(Employee.code, Employee.name, Employee.active).order_by(Employee.code)),
            "reconciliations": rows(select(ErpReconciliation.id).order_by(ErpReconciliation.id)),
        }
