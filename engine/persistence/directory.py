"""The org directory the lane resolution reads: units, managers, roles.

One directory lives for one unit of work, so what it reads is memoised for that
transaction only (the org tree, each role's holders): lane resolution asks the same
questions for every task a step makes ready, and a later transaction sees changes.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, select

from engine.domain.budget_line import BudgetLineKey
from engine.domain.lanes import Unit
from engine.persistence.lane_tables import ResourceOwner
from engine.persistence.prepared import Prepared
from engine.persistence.tables import Employee, EmployeeRole, OrgUnit

_parent = OrgUnit.__table__.alias("parent")
_UNITS = Prepared(select(OrgUnit.code, _parent.c.code, OrgUnit.manager_code)
                  .outerjoin(_parent, _parent.c.id == OrgUnit.parent_id))
_UNIT_OF = Prepared(select(OrgUnit.code).join(Employee, Employee.org_unit_id == OrgUnit.id)
                    .where(Employee.code == bindparam("employee")))
_HOLDERS = Prepared(select(Employee.code).join(EmployeeRole, EmployeeRole.employee_id == Employee.id)
                    .where(Employee.active.is_(True), EmployeeRole.role_code == bindparam("role"))
                    .order_by(Employee.code))
_EXISTS = Prepared(select(Employee.id).where(Employee.code == bindparam("employee")))
_OWNER = Prepared(select(ResourceOwner.employee).where(ResourceOwner.kind == bindparam("kind"),
                                                      ResourceOwner.code == bindparam("code")))
_ACTIVE = Prepared(select(Employee.id).where(Employee.code == bindparam("employee"), Employee.active.is_(True)))


class SqlDirectory:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._units: dict[str, Unit] | None = None
        self._holders: dict[str, list[str]] = {}
        self._active: dict[str, bool] = {}

    def _all_units(self) -> dict[str, Unit]:
        if self._units is None:
            self._units = {code: Unit(code, parent, manager) for code, parent, manager in _UNITS.all(self.conn, {})}
        return self._units

    def unit(self, code: str) -> Unit | None:
        return self._all_units().get(code)

    def unit_of(self, employee: str) -> Unit | None:
        code = _UNIT_OF.scalar(self.conn, {"employee": employee})
        return self.unit(code) if code else None

    def with_roles(self, *roles: str) -> list[str]:
        """Active employees holding every one of ``roles``, by code."""
        if not roles:
            return []
        held = [set(self._holders_of(role)) for role in roles[1:]]
        return [code for code in self._holders_of(roles[0]) if all(code in h for h in held)]

    def _holders_of(self, role: str) -> list[str]:
        if role not in self._holders:
            self._holders[role] = [code for (code,) in _HOLDERS.all(self.conn, {"role": role})]
        return self._holders[role]

    def exists(self, employee: str) -> bool:
        return _EXISTS.first(self.conn, {"employee": employee}) is not None

    def is_active(self, employee: str) -> bool:
        """Whether ``employee`` is a known, active employee (inactive people neither apply nor act)."""
        if employee not in self._active:
            self._active[employee] = _ACTIVE.first(self.conn, {"employee": employee}) is not None
        return self._active[employee]

    def budget_line_owner(self, key: BudgetLineKey) -> str | None:
        """The owner budget_lines.csv names for the line ``key`` labels; None without one."""
        return _OWNER.scalar(self.conn, {"kind": "budget_line", "code": key.label})

    def cost_center_owner(self, code: str) -> str | None:
        """The owner cost_centers.csv names for cost center ``code``; None without one."""
        return _OWNER.scalar(self.conn, {"kind": "cost_center", "code": code})
