"""What posting a claim reads from the data dictionary: subjects' GL accounts, the applicant's ERP codes,
the currency's minor units and the claim's receipts (engine/domain/posting.py builds the voucher from them)."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from engine.domain.posting import GL_COLUMN, Applicant, SubjectAccount
from engine.persistence.db import read_only
from engine.persistence.tables import CostCenter, Currency, Employee, ExpenseSubject, OrgUnit
from engine.persistence.web_tables import Attachment
from engine.persistence.workflow_tables import ProcessInstance


def subject_accounts(engine: Engine, erp: str) -> dict[str, SubjectAccount]:
    """Every expense subject's GL account in ``erp``'s chart (None where the dictionary has none)."""
    column = getattr(ExpenseSubject, GL_COLUMN[erp]) if erp in GL_COLUMN else None
    if column is None:
        return {}
    with read_only(engine.connect()) as conn:
        rows = conn.execute(select(ExpenseSubject.code, column, ExpenseSubject.tax_treatment, ExpenseSubject.name))
        return {code: SubjectAccount(gl or None, treatment, name) for code, gl, treatment, name in rows}


def applicant(engine: Engine, code: str) -> Applicant | None:
    """The employee's codes in the ERP: department (their org unit), cost center (the org unit's first active
    one), employee and vendor codes; None for an unknown employee."""
    with read_only(engine.connect()) as conn:
        row = conn.execute(select(Employee.name, Employee.erp_employee_code, Employee.erp_vendor_code,
                                  OrgUnit.code, OrgUnit.id).join(OrgUnit, OrgUnit.id == Employee.org_unit_id)
                           .where(Employee.code == code)).first()
        if row is None:
            return None
        name, employee_code, vendor_code, unit_code, unit_id = row
        cost_center = conn.execute(select(CostCenter.code).where(CostCenter.org_unit_id == unit_id,
                                                                 CostCenter.active.is_(True))
                                   .order_by(CostCenter.code).limit(1)).scalar()
    dimensions = {"department": unit_code, "cost_center": cost_center, "employee": employee_code,
                  "vendor": vendor_code}
    return Applicant(code, name, {k: v for k, v in dimensions.items() if v})


def minor_units(engine: Engine, currency: str) -> int | None:
    with read_only(engine.connect()) as conn:
        return conn.execute(select(Currency.minor_units).where(Currency.code == currency)).scalar()


def attachment_count(engine: Engine, document_no: str) -> int:
    with read_only(engine.connect()) as conn:
        return int(conn.execute(select(func.count()).select_from(Attachment)
                                .where(Attachment.document_no == document_no)).scalar() or 0)


def applicant_of(engine: Engine, document_no: str) -> str | None:
    """Who applied for the document ``document_no``."""
    with read_only(engine.connect()) as conn:
        return conn.execute(select(ProcessInstance.applicant)
                            .where(ProcessInstance.business_key == document_no)).scalar()
