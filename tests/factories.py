"""Small builders for test data that does not need a whole data dictionary."""

from __future__ import annotations

import uuid
from decimal import Decimal

from engine.bootstrap import Container
from engine.domain.budget import ControlMode
from engine.domain.budget_line import BudgetLineKey, LinePolicy
from engine.domain.money import Money
from engine.persistence import ledger_queries
from engine.persistence.tables import Currency, ExpenseSubject, OrgUnit
from engine.services import ledger


def make_line(
    container: Container, budget: str | Decimal = "2000.00", *, mode: ControlMode = ControlMode.FORBID,
    tolerance: str = "0", currency: str = "CNY",
) -> int:
    """A fresh budget line (own org unit and subject) with ``budget`` allocated."""
    tag = uuid.uuid4().hex[:8].upper()
    with container.session_factory() as s:
        if s.get(Currency, currency) is None:
            s.add(Currency(code=currency, name=currency, minor_units=2))
        unit = OrgUnit(code=f"OU-{tag}", name=f"Unit {tag}", active=True)
        subject = ExpenseSubject(code=f"SUBJ-{tag}", name=f"Subject {tag}", tax_treatment="none", active=True)
        s.add_all([unit, subject])
        s.flush()
        key = BudgetLineKey(period="2026", org_unit=unit.code, subject=subject.code)
        line_id = ledger_queries.create_line(
            s, key, ids={"org_unit": unit.id, "subject": subject.id}, currency=currency,
            policy=LinePolicy(mode, Decimal(tolerance)),
        )
        s.commit()
    if Decimal(budget) > 0:
        ledger.allocate(container.uow(), line_id=line_id, amount=Money.of(budget, currency), key=f"alloc:{line_id}")
    return line_id
