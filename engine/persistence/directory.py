"""The org directory the lane resolution reads: units, managers, roles."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from engine.domain.lanes import Unit
from engine.persistence.tables import Employee, EmployeeRole, OrgUnit


class SqlDirectory:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._units: dict[str, Unit] | None = None

    def _all_units(self) -> dict[str, Unit]:
        if self._units is None:
            parent = OrgUnit.__table__.alias("parent")
            rows = self.conn.execute(
                select(OrgUnit.code, parent.c.code, OrgUnit.manager_code)
                .outerjoin(parent, parent.c.id == OrgUnit.parent_id)
            )
            self._units = {code: Unit(code, parent_code, manager) for code, parent_code, manager in rows}
        return self._units

    def unit(self, code: str) -> Unit | None:
        return self._all_units().get(code)

    def unit_of(self, employee: str) -> Unit | None:
        code = self.conn.execute(
            select(OrgUnit.code).join(Employee, Employee.org_unit_id == OrgUnit.id).where(Employee.code == employee)
        ).scalar()
        return self.unit(code) if code else None

    def with_roles(self, *roles: str) -> list[str]:
        stmt = (
            select(Employee.code).join(EmployeeRole, EmployeeRole.employee_id == Employee.id)
            .where(Employee.active.is_(True), EmployeeRole.role_code.in_(roles))
            .group_by(Employee.code).having(func.count() == len(set(roles))).order_by(Employee.code)
        )
        return list(self.conn.execute(stmt).scalars())

    def exists(self, employee: str) -> bool:
        return self.conn.execute(select(Employee.id).where(Employee.code == employee)).first() is not None
