"""Drafts to post and the retry loop the outbox runs, for the Yonyou tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connectors.base import ConnectorError
from connectors.erp import ErpClient, PostedVoucher, VoucherDraft, VoucherLine

DAY = date(2026, 9, 11)


def draft(key: str, amount: str = "1200.00", *, account: str = "660201", day: date = DAY, **changes: object,
          ) -> VoucherDraft:
    """A travel claim: expense (department, employee, project) and input VAT against the employee payable."""
    total, vat = Decimal(amount), Decimal("72.00")
    lines = (
        VoucherLine(account, total - vat, Decimal(0), "差旅费", (("department", "D01"), ("employee", "E007"),
                                                               ("project", "P9"))),
        VoucherLine("22210101", vat, Decimal(0), "进项税"),
        VoucherLine("2241", Decimal(0), total, "应付报销款", (("employee", "E007"),)),
    )
    fields: dict[str, object] = {"document_no": key, "currency": "CNY", "lines": lines, "posting_date": day,
                                 "summary": f"报销 {key} 张伟 差旅费", "attachments": 2}
    fields.update(changes)
    return VoucherDraft(**fields)  # type: ignore[arg-type]


def post_with_retries(client: ErpClient, voucher: VoucherDraft, *, resolve_on_retry: bool) -> PostedVoucher:
    """Post until it succeeds, as the outbox does: after an ambiguous failure the retry resolves first (unless
    ``resolve_on_retry`` is False: the negative control)."""
    ambiguous = False
    for _ in range(20):
        try:
            return client.post_voucher(voucher, idempotency_key=voucher.document_no,
                                       resolve_first=ambiguous and resolve_on_retry)
        except ConnectorError as failed:
            assert failed.retryable, failed
            ambiguous = ambiguous or bool(failed.payload.get("ambiguous"))
    raise AssertionError("never posted")
