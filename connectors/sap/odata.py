"""Read-back through SAP's read-only OData service ``API_JOURNALENTRYITEMBASIC_SRV`` (entity set
``A_JournalEntryItemBasic``: one row per journal entry item), with requests.

What budgetflow relies on (SAP's API documentation; unverified against a live tenant):

- OData V2 JSON (``$format=json``): ``{"d": {"results": [...], "__next": "<url>"}}``; amounts are decimal
  strings, signed like the posting (credits negative); dates are ``/Date(<ms since epoch, UTC>)/``;
- ``$filter`` on ``DocumentReferenceID``, ``CompanyCode`` and ``PostingDate`` (``datetime'...'`` literals), string
  literals quoted with ``'`` (a quote inside doubled);
- paging: budgetflow asks ``$top``/``$skip`` in ``page_size`` windows ordered by document and item, and within a
  window follows ``__next`` when SAP caps a page below ``$top`` (server-side paging);
- paid: the payable is paid when its item is cleared: ``ClearingDate`` (and ``ClearingJournalEntry``) set on the
  entry's credit items (a plausible reading of SAP's open-item clearing, unverified).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import requests

from connectors.base import ConnectorError
from connectors.erp import UNAVAILABLE, BookedVoucher, VoucherLine
from connectors.erp_http import send, unavailable
from connectors.sap.settings import SapSettings
from connectors.sap.soap import CONNECT_TIMEOUT, VENDOR, bad_credentials, logon_again_once

ENTITY_SET = "A_JournalEntryItemBasic"
ORDER = "CompanyCode,FiscalYear,AccountingDocument,AccountingDocumentItem"
ODATA_DATE = re.compile(r"/Date\((-?\d+)(?:[+-]\d{4})?\)/")


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def by_reference(key: str, company_code: str) -> str:
    return f"DocumentReferenceID eq {quoted(key)} and CompanyCode eq {quoted(company_code)}"


def by_posting_date(start: date, end: date, company_code: str) -> str:
    return (f"CompanyCode eq {quoted(company_code)} and PostingDate ge datetime'{start.isoformat()}T00:00:00'"
            f" and PostingDate le datetime'{end.isoformat()}T00:00:00'")


class JournalEntryItems:
    """The items matching a filter, every page read."""

    def __init__(self, settings: SapSettings, session: requests.Session) -> None:
        self.settings = settings
        self.session = session
        self.url = f"{settings.odata_url}/{ENTITY_SET}"

    def matching(self, odata_filter: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        top = self.settings.page_size
        skip = 0
        while True:
            window = list(self._window(odata_filter, top, skip))
            if window and rows and _row_key(window[0]) == _row_key(rows[-top]):
                raise unavailable(VENDOR, "the read-back answered the same page for a later $skip", ambiguous=False)
            rows += window
            if len(window) < top:
                return rows
            skip += top

    def _window(self, odata_filter: str, top: int, skip: int) -> Iterator[dict[str, Any]]:
        url: str | None = self.url
        params: dict[str, Any] | None = {"$filter": odata_filter, "$orderby": ORDER, "$top": top, "$skip": skip,
                                         "$format": "json"}
        while url:
            page = self._get(url, params)
            results = page.get("results") or []
            yield from results
            url, params = (self._next(page.get("__next")), None) if results else (None, None)

    def _next(self, link: Any) -> str | None:
        """SAP's next link carries the whole query; only its query is used, on our own address, so the
        session's credentials never go to a host (or a ``file:`` URL) an answer names."""
        if not link:
            return None
        query = urlsplit(str(link)).query
        if not query:
            raise unavailable(VENDOR, "the read-back's next link has no query", ambiguous=False)
        return f"{self.url}?{query}"

    def _get(self, url: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
        response = logon_again_once(self.session, lambda: send(
            self.session, "GET", url, vendor=VENDOR, params=params,
            timeout=(CONNECT_TIMEOUT, self.settings.timeout_seconds)))
        if response.status_code in (401, 403):
            raise bad_credentials(response.status_code)
        if response.status_code == 429:
            raise unavailable(VENDOR, "throttled the read-back (HTTP 429)", ambiguous=False)
        try:
            page = response.json()["d"] if response.status_code == 200 else None
        except (ValueError, KeyError, TypeError):
            page = None
        if not isinstance(page, dict):
            raise ConnectorError(UNAVAILABLE, f"{VENDOR}: the journal entry read-back answered HTTP "
                                 f"{response.status_code} without OData results", retryable=True,
                                 ambiguous=False, vendor=VENDOR, http_status=response.status_code)
        return page


def _row_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(row.get(name, "")) for name in ORDER.split(","))


def odata_date(value: Any) -> date | None:
    found = ODATA_DATE.fullmatch(str(value or ""))
    if not found:
        return None
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(found.group(1)))).date()


def vouchers(rows: list[dict[str, Any]], dimensions: Mapping[str, str]) -> list[BookedVoucher]:
    """Items grouped into entries (company code, fiscal year, document), in SAP's order."""
    grouped: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        key = (str(row.get("CompanyCode", "")), str(row.get("FiscalYear", "")), str(row.get("AccountingDocument", "")))
        grouped.setdefault(key, []).append(row)
    return [_voucher(items, dimensions) for items in grouped.values()]


def _voucher(items: list[dict[str, Any]], dimensions: Mapping[str, str]) -> BookedVoucher:
    items.sort(key=lambda row: str(row.get("AccountingDocumentItem", "")).zfill(6))
    head = items[0]
    credits = [row for row in items if row.get("DebitCreditCode") == "H"]
    cleared = [odata_date(row.get("ClearingDate")) for row in credits]
    paid_on = max(d for d in cleared if d) if cleared and all(cleared) else None
    return BookedVoucher(
        voucher_no=str(head.get("AccountingDocument", "")),
        reference=str(head.get("DocumentReferenceID") or ""),
        posting_date=odata_date(head.get("PostingDate")) or date.min,
        currency=str(head.get("TransactionCurrency", "")),
        lines=tuple(_line(row, dimensions) for row in items),
        status="posted",  # the service reads posted entries only; parked documents are not journal entries
        paid_on=paid_on,
        extra={"company_code": head.get("CompanyCode"), "fiscal_year": head.get("FiscalYear"),
               "document_type": head.get("AccountingDocumentType"),
               "clearing_entries": sorted({str(r["ClearingJournalEntry"]) for r in credits
                                           if r.get("ClearingJournalEntry")})},
    )


def _line(row: Mapping[str, Any], dimensions: Mapping[str, str]) -> VoucherLine:
    try:
        value = abs(Decimal(str(row.get("AmountInTransactionCurrency", "0"))))
    except InvalidOperation:
        raise ConnectorError(UNAVAILABLE, f"{VENDOR}: the read-back's amount is not a number",
                             retryable=True, ambiguous=False, vendor=VENDOR) from None
    debit = row.get("DebitCreditCode") == "S"
    found = tuple(sorted((name, str(row[target])) for name, target in dimensions.items() if row.get(target)))
    return VoucherLine(account=str(row.get("GLAccount", "")), debit=value if debit else Decimal(0),
                       credit=Decimal(0) if debit else value, memo=str(row.get("DocumentItemText") or ""),
                       dimensions=found)
