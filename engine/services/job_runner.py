"""Turn outbox jobs into connector calls: the erp/notify/oa operators."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import ConnectorError
from connectors.erp import ErpClient
from engine.domain.errors import InvalidAmount
from engine.domain.voucher import build_voucher

log = logging.getLogger(__name__)


@dataclass
class ConnectorJobRunner:
    erp: ErpClient
    gl_accounts: Callable[[], Mapping[str, str]]  # expense subject code -> GL account of this ERP
    vendor_of: Callable[[str], str | None]  # employee code -> ERP vendor code
    sent: list[dict[str, Any]] = field(default_factory=list)  # notifications (a log until [4/5] sends them)

    def run(self, operator: str, params: dict[str, Any], *, key: str) -> dict[str, Any]:
        if operator == "erp/PostVoucher":
            return self._post_voucher(params, key)
        if operator == "notify/Send":
            self.sent.append({"to": params.get("to"), "template": params.get("template"), "key": key})
            log.info("notify %s: %s (%s)", params.get("to"), params.get("template"), params.get("document_no"))
            return {"sent": True}
        raise ConnectorError("NOT_CONFIGURED", f"operator {operator} has no connector configured yet")

    def _post_voucher(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        try:
            draft = build_voucher(document_no=params["document_no"], currency=params.get("currency") or "CNY",
                                  applicant_vendor=self.vendor_of(params.get("applicant", "")),
                                  lines=params.get("lines") or [], accounts=self.gl_accounts())
        except InvalidAmount as exc:  # a data problem finance must fix: no blind retry
            raise ConnectorError("ERP_POST_FAILED", str(exc)) from exc
        posted = self.erp.post_voucher(draft, idempotency_key=key)
        return {"voucher_no": posted.voucher_no, "replayed": posted.replayed}
