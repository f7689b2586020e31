"""Reconcile the ERP's book with budgetflow: run by ``budgetflow reconcile`` and the worker's daily job.

Reads the vouchers budgetflow recorded for the window and the ERP's book for the same dates, compares them
(engine/domain/reconciliation.py), and stores the report for the finance pages and the API. A failure to read
the ERP is reported as such (the ERP is down), never as "no difference".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from connectors.erp import ErpClient
from engine.domain.reconciliation import (
    PostedRecord,
    budget_actuals,
    compare_actuals,
    compare_vouchers,
    erp_actuals,
    report,
)

log = logging.getLogger(__name__)


@dataclass
class Reconciler:
    erp: ErpClient
    posted: Callable[[str, date, date], Sequence[PostedRecord]]  # erp, start, end -> what budgetflow posted
    # erp, documents -> each document's consumption per (account, cost center)
    consumed: Callable[[str, Sequence[str]], Mapping[str, Mapping[tuple[str, str], Decimal]]]
    expense_accounts: Callable[[str], set[str]]  # erp -> the GL accounts expense subjects post to
    save: Callable[[str, date, date, dict[str, Any]], int]

    def run(self, start: date, end: date) -> dict[str, Any]:
        """Compare the window ``start``..``end`` (posting dates, inclusive); store and return the report."""
        if end < start:
            raise ValueError(f"the window ends ({end}) before it starts ({start})")
        ours = self.posted(self.erp.name, start, end)
        theirs = self.erp.list_vouchers(start=start, end=end)
        differences = compare_vouchers(ours, theirs)
        consumed = self.consumed(self.erp.name, [r.document_no for r in ours])
        vat = {r.key: dict(r.vat_by_account or {}) for r in ours}
        accounts = self.expense_accounts(self.erp.name)
        differences += compare_actuals(budget_actuals(ours, consumed, accounts), erp_actuals(theirs, accounts, vat))
        found = report(self.erp.name, start, end, len(ours), len(theirs), differences)
        found["id"] = self.save(self.erp.name, start, end, found)
        log.info("reconciled %s %s..%s: %d differences", self.erp.name, start, end, len(differences))
        return found


def default_window(today: date, days: int = 31) -> tuple[date, date]:
    """The last ``days`` days up to today: the scheduled job's window (vouchers edited late are caught)."""
    return today - timedelta(days=days - 1), today
