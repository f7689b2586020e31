"""The ERP interface every voucher connector implements: local, Kingdee, Yonyou (U8 and YonBIP), SAP.

A voucher (凭证) is built by the engine from the claim and the posting rules, in the ERP's own codes
(accounts, dimensions, book, voucher type); a connector only translates it into the vendor's request and the
vendor's answers and errors back into these types. Amounts are ``Decimal`` in the voucher's currency, one side
per line, and a draft is balanced before any connector sees it.

Errors a connector raises (``ConnectorError``):

- ``ERP_POST_FAILED`` (not retryable): the ERP refused the voucher and will refuse it again as it is: a field
  failed validation, the period is closed, the credentials are wrong. ``payload["errors"]`` lists
  ``FieldError``-shaped dicts ``{"field", "line", "message"}`` (``line``: 1-based voucher line, or None for
  the header), so finance sees which field and why.
- ``ERP_UNAVAILABLE`` (retryable): the ERP did not answer, answered 5xx, throttled, or the connection broke.
  ``payload["ambiguous"]`` is True when the request may have reached the ERP (a read timeout, a connection
  dropped after sending): the voucher may exist, and the retry must find it, never post it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

POST_FAILED = "ERP_POST_FAILED"
UNAVAILABLE = "ERP_UNAVAILABLE"

# The neutral names of a line's auxiliary dimensions (辅助核算); each connector maps them to its vendor's fields.
DIMENSIONS = ("cost_center", "department", "employee", "vendor", "project")


@dataclass(frozen=True)
class VoucherLine:
    account: str  # the ERP's GL account code
    debit: Decimal  # one side per line: the other is zero
    credit: Decimal
    memo: str  # the line's explanation (摘要)
    dimensions: tuple[tuple[str, str], ...] = ()  # (neutral name from DIMENSIONS, the ERP's code), sorted

    def dimension(self, name: str) -> str | None:
        return dict(self.dimensions).get(name)


@dataclass(frozen=True)
class VoucherDraft:
    document_no: str  # the claim's number; also what the voucher is looked up by (see ErpClient)
    currency: str  # ISO 4217
    lines: tuple[VoucherLine, ...]
    posting_date: date | None = None  # None: the connector uses today's date (UTC)
    summary: str = ""  # the voucher's explanation, e.g. "报销 EC-2026-000001 张伟 差旅费"
    attachments: int = 0  # 附件数: receipts attached to the claim
    book: str = ""  # account book (账簿) / SAP company code; "" = the connection's default
    voucher_type: str = ""  # Kingdee voucher group, Yonyou voucher type, SAP document type; "" = default
    exchange_rate: Decimal = Decimal(1)  # to the book's currency

    @property
    def total(self) -> Decimal:
        return sum((line.debit for line in self.lines), Decimal(0))

    def is_balanced(self) -> bool:
        return self.total == sum((line.credit for line in self.lines), Decimal(0))


@dataclass(frozen=True)
class PostedVoucher:
    voucher_no: str  # the ERP's voucher number, as finance sees it in the ERP
    document_no: str
    replayed: bool = False  # the voucher already existed under this key: nothing was posted this time


@dataclass(frozen=True)
class BookedVoucher:
    """A voucher as the ERP holds it (read back for reconciliation and payment status)."""

    voucher_no: str
    reference: str  # the idempotency key budgetflow posted it under; "" for a voucher entered by hand
    posting_date: date
    currency: str
    lines: tuple[VoucherLine, ...]
    status: str = ""  # the vendor's status, as text (audited, posted, ...)
    paid_on: date | None = None  # when the employee payable was paid, if the ERP says so
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def total(self) -> Decimal:
        return sum((line.debit for line in self.lines), Decimal(0))


@dataclass(frozen=True)
class FieldError:
    field: str  # the vendor's field name (FACCOUNTID, accsubjectCode, GLAccount, ...)
    line: int | None  # 1-based voucher line, None for the voucher's header
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "line": self.line, "message": self.message}


class ErpClient(Protocol):
    name: str  # "local", "kingdee", "yonyou_u8", "yonbip", "sap"

    def post_voucher(self, draft: VoucherDraft, *, idempotency_key: str,
                     resolve_first: bool = False) -> PostedVoucher:
        """Post ``draft`` once per ``idempotency_key``.

        ``resolve_first``: an earlier attempt may have reached the ERP (it timed out, or the worker died):
        look the key up first and return that voucher (``replayed``), finishing it if the ERP left it half
        done (saved but not submitted), instead of posting again. An ERP with its own idempotency field
        (Yonyou's ``businessId``/``biz_id``) dedupes by itself and may skip the look-up.
        """

    def find_voucher(self, *, idempotency_key: str) -> PostedVoucher | None:
        """The voucher posted under ``idempotency_key``, or None if the ERP holds none."""

    def list_vouchers(self, *, start: date, end: date) -> Sequence[BookedVoucher]:
        """Every voucher in the book dated ``start``..``end`` inclusive (budgetflow's and hand-entered ones),
        paged through to the end."""
