"""What posting a claim reads from the data dictionary: subjects' GL accounts, the applicant's ERP codes,
the currency's minor units and the claim's receipts (engine/domain/posting.py builds the voucher from them)."""

from __future__ import annotations

from sqlalchemy import Engine, bindparam, func, select

from engine.domain.posting import GL_COLUMN, Applicant, DraftFacts, SubjectAccount
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


# The applicant's codes with the claim's currency and receipts: one statement for what a voucher reads per claim.
_FACTS = (
    select(Employee.name, Employee.erp_employee_code, Employee.erp_vendor_code, OrgUnit.code,
           select(CostCenter.code).where(CostCenter.org_unit_id == OrgUnit.id, CostCenter.active.is_(True))
           .order_by(CostCenter.code).limit(1).scalar_subquery(),
           select(Currency.minor_units).where(Currency.code == bindparam("currency")).scalar_subquery(),
           select(func.count()).select_from(Attachment).where(Attachment.document_no == bindparam("document_no"))
           .scalar_subquery())
    .join(OrgUnit, OrgUnit.id == Employee.org_unit_id).where(Employee.code == bindparam("applicant")))


def draft_facts(engine: Engine, applicant: str, currency: str, document_no: str) -> DraftFacts | None:
    """The applicant's codes in the ERP, the currency's minor units and the claim's receipt count, in one
    statement on one connection (every posting job reads all of them); None for an unknown employee.

    The applicant's codes: department (their org unit), cost center (the org unit's first active one),
    employee and vendor codes."""
    with read_only(engine.connect()) as conn:
        row = conn.execute(_FACTS, {"applicant": applicant, "currency": currency, "document_no": document_no}).first()
    if row is None:
        return None
    name, employee_code, vendor_code, unit_code, cost_center, places, receipts = row
    dimensions = {"department": unit_code, "cost_center": cost_center, "employee": employee_code,
                  "vendor": vendor_code}
    return DraftFacts(Applicant(applicant, name, {k: v for k, v in dimensions.items() if v}), places,
                      int(receipts or 0))


def applicant_of(engine: Engine, document_no: str) -> str | None:
    """Who applied for the document ``document_no``."""
    with read_only(engine.connect()) as conn:
        return conn.execute(select(ProcessInstance.applicant)
                            .where(ProcessInstance.business_key == document_no)).scalar()
