"""The ERP interface every voucher connector implements (the local one now; Kingdee, Yonyou and SAP come later)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class VoucherLine:
    account: str
    debit: Decimal
    credit: Decimal
    memo: str


@dataclass(frozen=True)
class VoucherDraft:
    document_no: str
    currency: str
    lines: tuple[VoucherLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.debit for line in self.lines), Decimal(0))

    def is_balanced(self) -> bool:
        return self.total == sum((line.credit for line in self.lines), Decimal(0))


@dataclass(frozen=True)
class PostedVoucher:
    voucher_no: str
    document_no: str
    replayed: bool = False


class ErpClient(Protocol):
    def post_voucher(self, draft: VoucherDraft, *, idempotency_key: str) -> PostedVoucher:
        """Post once per key: a repeat returns the voucher of the first post (or the ERP's own dedupe)."""

    def find_voucher(self, *, idempotency_key: str) -> PostedVoucher | None:
        """Look up a voucher by our reference, to resolve an ambiguous earlier attempt before retrying."""
