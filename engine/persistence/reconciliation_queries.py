"""The budget side of reconciliation: what the ledger consumed for given claims, by ERP account and cost center."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import Engine, func, select

from engine.domain.posting import GL_COLUMN
from engine.persistence.db import read_only
from engine.persistence.tables import BudgetLine, CostCenter, ExpenseSubject, LedgerEntry

BATCH = 500  # documents per IN list


def consumed_by_document(engine: Engine, erp: str, documents: Sequence[str]
                         ) -> dict[str, dict[tuple[str, str], Decimal]]:
    """Consumption booked for each of ``documents`` per (``erp``'s GL account of the budget line's subject,
    cost center); a line kept by org unit counts on that unit's first active cost center, as vouchers do."""
    account = getattr(ExpenseSubject, GL_COLUMN[erp])
    first_cost_center = (select(func.min(CostCenter.code)).where(CostCenter.org_unit_id == BudgetLine.org_unit_id,
                                                                 CostCenter.active.is_(True))
                         .correlate(BudgetLine).scalar_subquery())
    own_cost_center = select(CostCenter.code).where(CostCenter.id == BudgetLine.cost_center_id) \
        .correlate(BudgetLine).scalar_subquery()
    cost_center = func.coalesce(own_cost_center, first_cost_center, "")
    totals: dict[str, dict[tuple[str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    with read_only(engine.connect()) as conn:
        for start in range(0, len(documents), BATCH):
            rows = conn.execute(
                select(LedgerEntry.document_ref, account, cost_center, func.sum(LedgerEntry.consumed_delta))
                .join(BudgetLine, BudgetLine.id == LedgerEntry.line_id)
                .join(ExpenseSubject, ExpenseSubject.id == BudgetLine.subject_id)
                .where(LedgerEntry.document_ref.in_(documents[start:start + BATCH]))
                .group_by(LedgerEntry.document_ref, account, cost_center))
            for document, gl, center, consumed in rows:
                if consumed:
                    totals[document][(gl or "", center or "")] += Decimal(consumed)
    return {document: dict(found) for document, found in totals.items()}
