"""Small master-data reads the connectors need (GL accounts, vendor codes)."""

from __future__ import annotations

from sqlalchemy import Engine, select

from engine.persistence.db import read_only
from engine.persistence.tables import Employee, ExpenseSubject

_GL = {"kingdee": ExpenseSubject.gl_kingdee, "yonyou": ExpenseSubject.gl_yonyou, "sap": ExpenseSubject.gl_sap}


def gl_accounts(engine: Engine, *, erp: str) -> dict[str, str]:
    column = _GL[erp]
    with read_only(engine.connect()) as conn:
        return {code: gl for code, gl in conn.execute(select(ExpenseSubject.code, column)) if gl}


def vendor_code(engine: Engine, employee: str) -> str | None:
    with read_only(engine.connect()) as conn:
        return conn.execute(select(Employee.erp_vendor_code).where(Employee.code == employee)).scalar()
