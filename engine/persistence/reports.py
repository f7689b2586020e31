"""Read-side queries for reports and checks, on a unit of work's connection (``uow.reports``).

Opened on ``Container.reader()`` they run in a read-only snapshot: on SQLite a plain
deferred BEGIN (WAL), so a report never takes, nor waits for, the write lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, func, select

from engine.domain.audit import StoredEntry
from engine.domain.budget_line import BudgetLineKey
from engine.domain.ledger_check import LineTotals, ReservationTotals
from engine.persistence import audit_repository, ledger_queries
from engine.persistence.audit_table import AuditLog
from engine.persistence.ledger_queries import LineBalance, OpenReservation
from engine.persistence.tables import BudgetLine, Employee, MasterDataImport, OrgUnit
from engine.persistence.workflow_tables import OutboxJob, ProcessInstance, Voucher


class SqlReports:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at; None before ``budgetflow init``."""
        return MigrationContext.configure(self.conn).get_current_revision()

    def balances(self, prefix: str | None = None) -> list[LineBalance]:
        return ledger_queries.balances(self.conn, prefix=prefix)

    def line_names(self) -> dict[int, tuple[str, str]]:
        return ledger_queries.line_names(self.conn)

    def line_totals(self) -> Iterator[LineTotals]:
        return ledger_queries.line_totals(self.conn)

    def reservation_totals(self) -> Iterator[ReservationTotals]:
        return ledger_queries.reservation_totals(self.conn)

    def open_reservations(self, created_before: datetime | None = None) -> list[OpenReservation]:
        return ledger_queries.open_reservations(self.conn, created_before=created_before)

    def find_line(self, key: BudgetLineKey) -> int | None:
        return ledger_queries.find_line(self.conn, key)

    def master_data_imports(self) -> list[dict[str, Any]]:
        """Every data-dictionary import, oldest first: version, checksum, source, when."""
        t = MasterDataImport.__table__
        rows = self.conn.execute(select(t.c.version, t.c.checksum, t.c.source, t.c.imported_at).order_by(t.c.id))
        return [dict(r._mapping) for r in rows]

    def master_data_rows(self) -> int:
        """Employees and budget lines, however they came in: zero only in a database without master data."""
        count = select(func.count()).select_from
        return int(self.conn.execute(count(Employee)).scalar_one() + self.conn.execute(count(BudgetLine)).scalar_one())

    def colleagues(self, employee: str, *, limit: int = 200) -> list[dict[str, Any]]:
        """Active employees other than ``employee`` (code, name, org unit): their own unit first, then by code."""
        own_unit = select(Employee.org_unit_id).where(Employee.code == employee).scalar_subquery()
        stmt = (select(Employee.code, Employee.name, OrgUnit.code.label("org_unit"))
                .join(OrgUnit, OrgUnit.id == Employee.org_unit_id)
                .where(Employee.active.is_(True), Employee.code != employee)
                .order_by((Employee.org_unit_id == own_unit).desc(), Employee.code).limit(limit))
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def vouchers(self, documents: Iterable[str] | None = None) -> int:
        """Vouchers posted to the local ERP, for ``documents`` only if given."""
        stmt = select(func.count()).select_from(Voucher)
        if documents is not None:
            stmt = stmt.where(Voucher.document_no.in_(list(documents)))
        return int(self.conn.execute(stmt).scalar_one())

    def jobs_done(self, documents: Iterable[str]) -> int:
        """Connector jobs finished for these documents' instances."""
        stmt = (select(func.count()).select_from(OutboxJob)
                .join(ProcessInstance, ProcessInstance.id == OutboxJob.instance_id)
                .where(OutboxJob.status == "done", ProcessInstance.business_key.in_(list(documents))))
        return int(self.conn.execute(stmt).scalar_one())

    def audit_row_count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(AuditLog)).scalar_one())

    def audit_rows(self, action: str | None = None) -> Iterator[StoredEntry]:
        """Audit rows in seq order, streamed; only those of ``action`` if given."""
        for entry in audit_repository.iter_rows(self.conn):
            if action is None or entry.record.action == action:
                yield entry
