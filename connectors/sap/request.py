"""A neutral voucher as SAP's journal entry: the arguments zeep turns into ``JournalEntryBulkCreateRequest``.

What SAP expects (SAP's documentation of SAP_COM_0002; the sign rule is *community* knowledge, unverified):

- one ``JournalEntryCreateRequest`` per call, header ``BusinessTransactionType`` RFBU and
  ``OriginalReferenceDocumentType`` BKPFF (SAP fills ``OriginalReferenceDocument`` for BKPFF, so it goes empty);
- ``DocumentReferenceID`` (the document's Reference, XBLNR, 16 characters at most) carries our idempotency key:
  SAP has no idempotency, so the key is what a retry looks the entry up by;
- ``DocumentHeaderText`` is 25 characters at most and ``DocumentItemText`` 50: longer texts are cut;
- an item's ``AmountInTransactionCurrency`` is positive with ``DebitCreditCode`` S (debit) and negative with H
  (credit), with two decimals.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import uuid4

from connectors.base import ConnectorError
from connectors.erp import POST_FAILED, FieldError, VoucherDraft, VoucherLine
from connectors.sap.settings import ACCOUNT_ASSIGNMENT_FIELDS, SapSettings

VENDOR = "SAP"
MAX_REFERENCE = 16
MAX_HEADER_TEXT = 25
MAX_ITEM_TEXT = 50
CENT = Decimal("0.01")


def refused(message: str, *errors: FieldError) -> ConnectorError:
    return ConnectorError(POST_FAILED, f"{VENDOR}: {message}", retryable=False,
                          errors=[e.as_dict() for e in errors], vendor=VENDOR)


def check_key(key: str) -> None:
    """SAP's Reference holds 16 characters: a longer key could not be found again, so it is refused."""
    if not key or len(key) > MAX_REFERENCE:
        message = f"the idempotency key {key!r} must be 1 to {MAX_REFERENCE} characters (SAP's Reference field)"
        raise refused(message, FieldError("DocumentReferenceID", None, message))


def journal_entry_request(draft: VoucherDraft, key: str, settings: SapSettings,
                          now: datetime | None = None) -> dict[str, Any]:
    """The keyword arguments of ``JournalEntryCreateRequestConfirmation_In`` for ``draft`` posted under ``key``."""
    check_key(key)
    now = now or datetime.now(UTC)
    day = draft.posting_date or now.date()
    header = {"ID": uuid4().hex, "CreationDateTime": now}
    entry = {
        "OriginalReferenceDocumentType": "BKPFF",
        "OriginalReferenceDocument": "",
        "OriginalReferenceDocumentLogicalSystem": settings.logical_system or None,
        "BusinessTransactionType": "RFBU",
        "AccountingDocumentType": draft.voucher_type or settings.voucher_type,
        "DocumentReferenceID": key,
        "DocumentHeaderText": draft.summary[:MAX_HEADER_TEXT] or None,
        "CreatedByUser": settings.created_by_user or settings.user,
        "CompanyCode": draft.book or settings.book,
        "DocumentDate": day,
        "PostingDate": day,
        "Item": _items(draft, settings),
    }
    return {"MessageHeader": header,
            "JournalEntryCreateRequest": [{"MessageHeader": dict(header), "JournalEntry": entry}]}


def _items(draft: VoucherDraft, settings: SapSettings) -> list[dict[str, Any]]:
    local = _company_code_amounts(draft, settings)
    items = []
    for number, line in enumerate(draft.lines, start=1):
        item: dict[str, Any] = {
            "ReferenceDocumentItem": str(number),
            "GLAccount": line.account,
            "AmountInTransactionCurrency": amount(signed(line), draft.currency),
            "DebitCreditCode": "S" if line.debit else "H",
            "DocumentItemText": line.memo[:MAX_ITEM_TEXT] or None,
        }
        if local:
            item["AmountInCompanyCodeCurrency"] = amount(local[number - 1], settings.book_currency)
        item.update(_assignments(line, number, settings.dimensions))
        items.append(item)
    return items


def signed(line: VoucherLine) -> Decimal:
    """Debits positive, credits negative: SAP reads the sign together with DebitCreditCode."""
    if line.debit and line.credit:
        message = "a line carries both a debit and a credit"
        raise refused(message, FieldError("DebitCreditCode", None, message))
    return line.debit if line.debit else -line.credit


def amount(value: Decimal, currency: str) -> dict[str, Any]:
    if not isinstance(value, Decimal):
        raise TypeError("amounts are Decimal")
    return {"_value_1": value.quantize(CENT, rounding=ROUND_HALF_UP), "currencyCode": currency}


def _assignments(line: VoucherLine, number: int, mapping: Mapping[str, str]) -> dict[str, Any]:
    """The line's dimensions in the SAP fields the settings map them to; an unmapped one is refused, since
    dropping it would post the cost without the assignment finance asked for."""
    assignment: dict[str, str] = {}
    item: dict[str, Any] = {}
    for name, code in line.dimensions:
        target = mapping.get(name)
        if target is None:
            message = f"no SAP field for the dimension {name!r}: map it in the settings' dimensions table"
            raise refused(message, FieldError(name, number, message))
        (assignment if target in ACCOUNT_ASSIGNMENT_FIELDS else item)[target] = code
    if assignment:
        item["AccountAssignment"] = assignment
    return item


def _company_code_amounts(draft: VoucherDraft, settings: SapSettings) -> list[Decimal]:
    """The lines in the company code's currency when the draft carries an exchange rate; the rounding
    difference goes to the last credit line, so the entry still balances in both currencies."""
    if draft.exchange_rate == 1 or draft.currency == settings.book_currency:
        return []
    if not settings.book_currency:
        message = "the voucher carries an exchange rate: set book_currency (the company code's currency)"
        raise refused(message, FieldError("AmountInCompanyCodeCurrency", None, message))
    local = [(signed(line) * draft.exchange_rate).quantize(CENT, rounding=ROUND_HALF_UP) for line in draft.lines]
    difference = sum(local, Decimal(0))
    last_credit = max((n for n, value in enumerate(local) if value < 0), default=None)
    if difference and last_credit is not None:
        local[last_credit] -= difference
    return local
