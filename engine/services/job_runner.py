"""Turn outbox jobs into connector calls: the erp/notify/oa operators."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from connectors.base import ConnectorError
from connectors.erp import ErpClient
from engine.services.erp_posting import VoucherPosting
from engine.services.oa_approval_jobs import OaApprovalJobs
from engine.services.oa_notify import OaNotifier
from engine.services.outbox import Completed

log = logging.getLogger(__name__)


@dataclass
class ConnectorJobRunner:
    posting: VoucherPosting
    notifier: OaNotifier | None = None  # None: no OA suite is configured; notifications are only logged
    oa_approvals: OaApprovalJobs | None = None  # None: no OA suite is configured
    sent: list[dict[str, Any]] = field(default_factory=list)  # notifications (what was asked, and to whom)
    @property
    def erp(self) -> ErpClient:
        """The ERP vouchers go to (tests and the bench swap it for a flaky or an emulated one)."""
        return self.posting.erp

    @erp.setter
    def erp(self, client: ErpClient) -> None:
        self.posting.erp = client

    def run(self, operator: str, params: dict[str, Any], *, key: str, attempt: int = 1
            ) -> dict[str, Any] | Completed:
        """Call ``operator``'s connector. A posted voucher comes back ``Completed``: its record is written with
        the job's success (outbox.py)."""
        if operator == "erp/PostVoucher":
            return self.posting.post(params, attempt=attempt)
        if operator == "notify/Send":
            return self._notify(params, key)
        if operator in ("oa/CreateApproval", "oa/GetApproval") and self.oa_approvals is not None:
            jobs = self.oa_approvals
            return jobs.create(params) if operator == "oa/CreateApproval" else jobs.get(params)
        raise ConnectorError("NOT_CONFIGURED", f"operator {operator} has no connector configured yet")

    def _notify(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        self.sent.append({"to": params.get("to"), "template": params.get("template"), "key": key})
        log.info("notify %s: %s (%s)", params.get("to"), params.get("template"), params.get("document_no"))
        if self.notifier is None:
            return {"sent": True}
        return self.notifier.send(params)
