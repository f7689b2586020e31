"""Who a notification is for, and how each of them is reached in the OA suites (notify/Send).

A diagram names recipients as ``lane:<lane>`` (whoever the document's open task in that lane waits for: its
assignee, else its candidates), ``role:<role>`` (every active employee holding the role) or an employee code.
The engine's own notification of a task that opened names ``task:<guid>``: whoever that task of the document
waits for when the worker sends, nobody once it has closed (engine/services/task_opened.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import Engine, select

from engine.persistence.db import read_only
from engine.persistence.tables import Employee, EmployeeRole, OrgUnit
from engine.persistence.workflow_tables import HumanTask, ProcessInstance

OA_ID_COLUMNS = {"dingtalk": Employee.dingtalk_userid, "wecom": Employee.wecom_userid,
                 "feishu": Employee.feishu_open_id}
DEPT_COLUMNS = {"dingtalk": OrgUnit.dingtalk_dept_id, "wecom": OrgUnit.wecom_dept_id,
                "feishu": OrgUnit.feishu_dept_id}


def recipients(engine: Engine, to: str, document_no: str | None) -> list[str]:
    """The active employees ``to`` names, in a stable order, each once."""
    kind, _sep, name = to.partition(":") if ":" in to else ("employee", "", to)
    with read_only(engine.connect()) as conn:
        if kind in ("lane", "task") and document_no:
            which = HumanTask.lane == name if kind == "lane" else HumanTask.task_guid == name
            rows = conn.execute(select(HumanTask.assignee, HumanTask.candidates)
                                .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                                .where(ProcessInstance.business_key == document_no, which,
                                       HumanTask.status == "open")).all()
            codes: Iterable[str] = [c for assignee, candidates in rows
                                    for c in ([assignee] if assignee else json.loads(candidates or "[]"))]
        elif kind == "role":
            codes = conn.execute(select(Employee.code).join(EmployeeRole, EmployeeRole.employee_id == Employee.id)
                                 .where(EmployeeRole.role_code == name).order_by(Employee.code)).scalars()
        elif kind == "employee":
            codes = [name]
        else:
            return []
        wanted = list(dict.fromkeys(codes))
        active = set(conn.execute(select(Employee.code).where(Employee.code.in_(wanted),
                                                              Employee.active.is_(True))).scalars())
    return [c for c in wanted if c in active]


def oa_ids(engine: Engine, codes: list[str], vendor: str) -> dict[str, str]:
    """Each employee's user id in ``vendor``, for those the data dictionary gives one."""
    column = OA_ID_COLUMNS[vendor]
    with read_only(engine.connect()) as conn:
        return {code: oa_id for code, oa_id in conn.execute(select(Employee.code, column).where(
            Employee.code.in_(codes), column.is_not(None)))}


def oa_people(engine: Engine, vendor: str) -> list[tuple[str, str, str | None]]:
    """(OA user id, name, their unit's ``vendor`` department id) of every active employee the data dictionary
    gives a ``vendor`` id: what an emulated directory needs so that the org sync finds everyone in place."""
    column, dept = OA_ID_COLUMNS[vendor], DEPT_COLUMNS[vendor]
    with read_only(engine.connect()) as conn:
        return [(str(oa_id), str(name), None if dept_id is None else str(dept_id)) for oa_id, name, dept_id in
                conn.execute(select(column, Employee.name, dept).join(OrgUnit, OrgUnit.id == Employee.org_unit_id)
                             .where(column.is_not(None), Employee.active.is_(True)).order_by(Employee.code))]


def oa_departments(engine: Engine, vendor: str) -> list[tuple[str, str, str | None]]:
    """(department id, unit name, parent unit's department id) of every active unit with a ``vendor``
    department, parents before children."""
    dept, parent = DEPT_COLUMNS[vendor], OrgUnit.__table__.alias("parent")
    with read_only(engine.connect()) as conn:
        rows = conn.execute(select(OrgUnit.id, OrgUnit.parent_id, dept, OrgUnit.name, parent.c[dept.key])
                            .outerjoin(parent, parent.c.id == OrgUnit.parent_id)
                            .where(dept.is_not(None), OrgUnit.active.is_(True))).all()
    parent_of = {unit_id: parent_id for unit_id, parent_id, *_rest in rows}

    def depth(unit_id: int | None) -> int:
        return 0 if unit_id is None or unit_id not in parent_of else 1 + depth(parent_of[unit_id])

    return [(str(d), str(name), None if up is None else str(up))
            for unit_id, _p, d, name, up in sorted(rows, key=lambda r: (depth(r[0]), str(r[2])))]
