"""The org sync's reads and writes (engine/services/oa_org_sync.py): employees by OA id, units by OA department,
and the open tasks of people it deactivates. One unit of work's connection; the service commits."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, or_, select, update

from engine.domain.org_sync import HeldTask, Known
from engine.persistence.tables import Employee, EmployeeRole, OrgUnit
from engine.persistence.workflow_tables import HumanTask, HumanTaskCandidate, ProcessInstance

OA_ID_COLUMNS = {"dingtalk": "dingtalk_userid", "wecom": "wecom_userid", "feishu": "feishu_open_id"}
DEPT_COLUMNS = {"dingtalk": "dingtalk_dept_id", "wecom": "wecom_dept_id", "feishu": "feishu_dept_id"}
NEW_EMPLOYEE_ROLE = "employee"


class SqlOrgSync:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def known(self, vendor: str) -> list[Known]:
        """Every employee with a ``vendor`` user id, active or not, with the code of their unit."""
        column = getattr(Employee, OA_ID_COLUMNS[vendor])
        rows = self.conn.execute(select(Employee.code, Employee.name, column, OrgUnit.code, Employee.active)
                                 .join(OrgUnit, OrgUnit.id == Employee.org_unit_id)
                                 .where(column.is_not(None)).order_by(Employee.code))
        return [Known(code, name, oa_id, unit, bool(active)) for code, name, oa_id, unit, active in rows]

    def units_by_dept(self, vendor: str) -> dict[str, str]:
        """Each ``vendor`` department id an active org unit maps, to that unit's code."""
        column = getattr(OrgUnit, DEPT_COLUMNS[vendor])
        rows = self.conn.execute(select(column, OrgUnit.code).where(column.is_not(None), OrgUnit.active.is_(True))
                                 .order_by(OrgUnit.code))
        return {str(dept): code for dept, code in rows}

    def employee_codes(self) -> set[str]:
        return set(self.conn.execute(select(Employee.code)).scalars())

    def create(self, *, code: str, name: str, unit: str, vendor: str, oa_id: str) -> None:
        unit_id = self._unit_id(unit)
        self.conn.execute(insert(Employee).values(code=code, name=name, org_unit_id=unit_id, active=True,
                                                  **{OA_ID_COLUMNS[vendor]: oa_id}))
        employee_id = self.conn.execute(select(Employee.id).where(Employee.code == code)).scalar_one()
        self.conn.execute(insert(EmployeeRole).values(employee_id=employee_id, role_code=NEW_EMPLOYEE_ROLE))

    def rename(self, code: str, name: str) -> None:
        self.conn.execute(update(Employee).where(Employee.code == code).values(name=name))

    def move(self, code: str, unit: str) -> None:
        self.conn.execute(update(Employee).where(Employee.code == code).values(org_unit_id=self._unit_id(unit)))

    def deactivate(self, code: str) -> None:
        self.conn.execute(update(Employee).where(Employee.code == code).values(active=False))

    def _unit_id(self, unit: str) -> int:
        return int(self.conn.execute(select(OrgUnit.id).where(OrgUnit.code == unit)).scalar_one())

    def held_tasks(self, person: str) -> list[HeldTask]:
        """The open tasks ``person`` holds or is offered, oldest first."""
        offered = select(HumanTaskCandidate.task_id).where(HumanTaskCandidate.employee == person)
        rows = self.conn.execute(
            select(HumanTask.id, HumanTask.task_guid, HumanTask.bpmn_id, HumanTask.lane, HumanTask.assignee,
                   ProcessInstance.applicant, ProcessInstance.business_key)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(HumanTask.status == "open", or_(HumanTask.assignee == person, HumanTask.id.in_(offered)))
            .order_by(HumanTask.id)).all()
        held = []
        for task_id, guid, bpmn_id, lane, assignee, applicant, key in rows:
            candidates = self.conn.execute(select(HumanTaskCandidate.employee).where(
                HumanTaskCandidate.task_id == task_id).order_by(HumanTaskCandidate.employee)).scalars()
            held.append(HeldTask(guid, bpmn_id, lane, assignee, tuple(candidates), applicant, key))
        return held

    def drop_candidate(self, task_guid: str, person: str) -> None:
        """``person`` no longer sees the task in their inbox (``human_task.candidates`` keeps the history)."""
        task_id = select(HumanTask.id).where(HumanTask.task_guid == task_guid).scalar_subquery()
        self.conn.execute(delete(HumanTaskCandidate).where(HumanTaskCandidate.task_id == task_id,
                                                           HumanTaskCandidate.employee == person))
