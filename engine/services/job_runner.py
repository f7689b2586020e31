"""Turn outbox jobs into connector calls: the erp/notify/oa operators."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import ConnectorError
from connectors.erp import ErpClient
from engine.domain.errors import InvalidAmount
from engine.domain.voucher import build_voucher
from engine.services.oa_approval_jobs import OaApprovalJobs
from engine.services.oa_notify import OaNotifier

log = logging.getLogger(__name__)


@dataclass
class ConnectorJobRunner:
    erp: ErpClient
    gl_accounts: Callable[[], Mapping[str, str]]  # expense subject code -> GL account of this ERP
    vendor_of: Callable[[str], str | None]  # employee code -> ERP vendor code
    notifier: OaNotifier | None = None  # None: no OA suite is configured; notifications are only logged
    oa_approvals: OaApprovalJobs | None = None  # None: no OA suite is configured
    sent: list[dict[str, Any]] = field(default_factory=list)  # notifications (what was asked, and to whom)
    accounts_ttl: float = 60.0  # seconds a read of the chart of accounts is reused
    _accounts: tuple[float, Mapping[str, str]] | None = None

    def accounts(self) -> Mapping[str, str]:
        now = time.monotonic()
        if self._accounts is None or now - self._accounts[0] > self.accounts_ttl:
            self._accounts = (now, self.gl_accounts())
        return self._accounts[1]

    def run(self, operator: str, params: dict[str, Any], *, key: str) -> dict[str, Any]:
        if operator == "erp/PostVoucher":
            return self._post_voucher(params, key)
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

    def _post_voucher(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        try:
            draft = build_voucher(document_no=params["document_no"], currency=params.get("currency") or "CNY",
                                  applicant_vendor=self.vendor_of(params.get("applicant", "")),
                                  lines=params.get("lines") or [], accounts=self.accounts())
        except InvalidAmount as exc:  # a data problem finance must fix: no blind retry
            raise ConnectorError("ERP_POST_FAILED", str(exc)) from exc
        posted = self.erp.post_voucher(draft, idempotency_key=key)
        return {"voucher_no": posted.voucher_no, "replayed": posted.replayed}
