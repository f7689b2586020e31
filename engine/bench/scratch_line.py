"""A budget line with its own org unit and subject, for benchmarks and tests that need no data dictionary."""

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


def make_scratch_line(
    container: Container, budget: str | Decimal, *, mode: ControlMode = ControlMode.FORBID,
    tolerance: str | Decimal = "0", currency: str = "CNY", prefix: str = "SCRATCH",
) -> int:
    """Create the line and allocate ``budget`` to it (if positive) through the ledger; return its id."""
    tag = uuid.uuid4().hex[:8].upper()
    with container.session_factory() as s:
        if s.get(Currency, currency) is None:
            s.add(Currency(code=currency, name=currency, minor_units=2))
        unit = OrgUnit(code=f"{prefix}-{tag}", name=f"{prefix} {tag}", active=True)
        subject = ExpenseSubject(code=f"{prefix}-{tag}", name=f"{prefix} {tag}", tax_treatment="none", active=True)
        s.add_all([unit, subject])
        s.flush()
        line_id = ledger_queries.create_line(
            s, BudgetLineKey("2026", subject.code, org_unit=unit.code),
            ids={"org_unit": unit.id, "subject": subject.id}, currency=currency,
            policy=LinePolicy(mode, Decimal(tolerance)),
        )
        s.commit()
    if Decimal(budget) > 0:
        ledger.allocate(container.uow, line_id=line_id, amount=Money.of(budget, currency), key=f"alloc:{line_id}")
    return line_id
