"""Payment status from the ERP: claims whose payable the ERP shows paid are marked paid, and the employee told.

Run by the worker (job ``erp-payments``) and ``budgetflow reconcile --payments``. It reads the ERP's book from the
oldest unpaid voucher's date on, once per run. The employee is told before the claim is marked paid: a run
that dies between the two tells them again next time (at least once), but never marks a claim paid silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from connectors.base import ConnectorError
from connectors.erp import ErpClient
from engine.domain.reconciliation import PostedRecord

log = logging.getLogger(__name__)


@dataclass
class PaymentSync:
    erp: ErpClient
    unpaid: Callable[[str], Sequence[PostedRecord]]  # erp -> vouchers budgetflow posted, not yet paid
    mark_paid: Callable[[str, str, date], bool]  # erp, key, paid on -> newly marked
    notify: Callable[[dict[str, Any], str], Any]  # notify/Send params, idempotency key
    applicant_of: Callable[[str], str | None]
    today: Callable[[], date]

    def run(self) -> int:
        """Mark what the ERP shows paid; how many claims were marked."""
        waiting = self.unpaid(self.erp.name)
        if not waiting:
            return 0
        start = min(record.posting_date for record in waiting)
        paid = {v.reference: v.paid_on for v in self.erp.list_vouchers(start=start, end=self.today())
                if v.reference and v.paid_on}
        marked = 0
        for record in waiting:
            paid_on = paid.get(record.key)
            if paid_on is None:
                continue
            self._tell(record)
            if self.mark_paid(self.erp.name, record.key, paid_on):
                marked += 1
                log.info("%s paid on %s (voucher %s)", record.document_no, paid_on, record.voucher_no)
        return marked

    def _tell(self, record: PostedRecord) -> None:
        applicant = self.applicant_of(record.document_no)
        if not applicant:
            return
        params = {"to": applicant, "template": "expense_claim_paid", "document_no": record.document_no,
                  "voucher_no": record.voucher_no}
        try:
            self.notify(params, f"paid:{record.erp}:{record.key}")
        except ConnectorError as exc:  # the OA is away: the claim stays unpaid here and is told next run
            log.warning("could not tell %s that %s was paid: %s", applicant, record.document_no, exc)
            raise
