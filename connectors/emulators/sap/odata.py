"""The SAP emulator's read-only OData V2 service ``API_JOURNALENTRYITEMBASIC_SRV/A_JournalEntryItemBasic``.

One row per journal entry item, made from the book (so vouchers entered by hand through ``/_emulator/book`` show
too). Supported: ``$filter`` clauses joined by ``and``: ``<Field> eq '<text>'`` on any text field, and
``PostingDate`` compared (``eq ge gt le lt``) with ``datetime'YYYY-MM-DDThh:mm:ss'``; ``$top``, ``$skip``, and
server-side paging: at most ``max_page`` rows a page, the rest behind ``__next`` (a ``$skiptoken``). Rows come
in document and item order whatever ``$orderby`` says. An unsupported filter answers HTTP 400 with an OData error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from connectors.erp import BookedVoucher

CLAUSE = re.compile(r"\s*(\w+)\s+(eq|ge|gt|le|lt)\s+(?:'((?:[^']|'')*)'|datetime'(\d{4}-\d\d-\d\d)T[\d:.]+')\s*")
COMPARE = {"eq": lambda a, b: a == b, "ge": lambda a, b: a >= b, "gt": lambda a, b: a > b,
           "le": lambda a, b: a <= b, "lt": lambda a, b: a < b}
ENTITY = "API_JOURNALENTRYITEMBASIC_SRV.A_JournalEntryItemBasicType"


class BadQuery(ValueError):
    """The query is not one the service understands (HTTP 400)."""


def odata_date(day: date | None) -> str | None:
    if day is None:
        return None
    return f"/Date({int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)})/"


def rows(voucher: BookedVoucher, fields: Mapping[str, str], company_code: str) -> list[dict[str, Any]]:
    """The voucher's items as OData rows; ``fields`` maps neutral dimension names to SAP fields."""
    company = str(voucher.extra.get("company_code") or company_code)
    found = []
    for n, line in enumerate(voucher.lines, start=1):
        credit = bool(line.credit)
        row: dict[str, Any] = {
            "__metadata": {"type": ENTITY},
            "CompanyCode": company, "FiscalYear": str(voucher.posting_date.year),
            "AccountingDocument": voucher.voucher_no, "AccountingDocumentItem": f"{n:06d}",
            "AccountingDocumentType": str(voucher.extra.get("document_type") or "SA"),
            "DocumentReferenceID": voucher.reference,
            "AccountingDocumentHeaderText": str(voucher.extra.get("header_text") or ""),
            "PostingDate": odata_date(voucher.posting_date), "DocumentDate": odata_date(voucher.posting_date),
            "GLAccount": line.account, "DebitCreditCode": "H" if credit else "S",
            "AmountInTransactionCurrency": f"{-line.credit if credit else line.debit:.2f}",
            "TransactionCurrency": voucher.currency, "DocumentItemText": line.memo,
            "ClearingJournalEntry": "", "ClearingDate": None,
        }
        for name, code in line.dimensions:
            row[fields.get(name, name)] = code
        if credit and voucher.paid_on:
            row["ClearingJournalEntry"] = "15" + voucher.voucher_no[2:]  # the payment's clearing document
            row["ClearingDate"] = odata_date(voucher.paid_on)
        found.append(row)
    return found


def matching(all_rows: Iterable[dict[str, Any]], odata_filter: str) -> list[dict[str, Any]]:
    tests = _clauses(odata_filter)
    return [row for row in all_rows if all(_holds(row, *test) for test in tests)]


def reference_filter(odata_filter: str) -> str | None:
    """The DocumentReferenceID a filter asks for (the look-up by key), or None; a bad filter: None (the full
    evaluation reports it)."""
    try:
        tests = _clauses(odata_filter)
    except BadQuery:
        return None
    return next((str(value) for name, operator, value in tests
                 if name == "DocumentReferenceID" and operator == "eq"), None)


def _clauses(odata_filter: str) -> list[tuple[str, str, Any]]:
    tests = []
    for clause in re.split(r"\s+and\s+", odata_filter.strip()) if odata_filter.strip() else []:
        found = CLAUSE.fullmatch(clause)
        if not found:
            raise BadQuery(f"Invalid filter expression: {clause!r}")
        name, operator, text, day = found.groups()
        if day is None and operator != "eq":
            raise BadQuery(f"Operator {operator} is supported for PostingDate only")
        value = date.fromisoformat(day) if day else text.replace("''", "'")
        tests.append((name, operator, value))
    return tests


def _holds(row: Mapping[str, Any], name: str, operator: str, value: Any) -> bool:
    if isinstance(value, date):
        if name != "PostingDate":
            raise BadQuery(f"Date comparison on {name} is not supported")
        found = re.fullmatch(r"/Date\((\d+)\)/", str(row.get(name)))
        row_day = datetime.fromtimestamp(int(found.group(1)) / 1000, UTC).date() if found else None
        return row_day is not None and COMPARE[operator](row_day, value)
    return str(row.get(name) or "") == value


def page(found: list[dict[str, Any]], args: Mapping[str, str], base_url: str, max_page: int) -> dict[str, Any]:
    """The page ``args`` ask for: ``$skip``/``$top`` first, then at most ``max_page`` rows from ``$skiptoken``."""
    try:
        skip = int(args.get("$skip", 0))
        top = int(args["$top"]) if "$top" in args else len(found)
        token = int(args.get("$skiptoken", 0))
    except ValueError:
        raise BadQuery("$skip, $top and $skiptoken are whole numbers") from None
    window = found[skip:skip + top]
    body: dict[str, Any] = {"results": window[token:token + max_page]}
    if token + max_page < len(window):
        query = {k: v for k, v in args.items() if k != "$skiptoken"} | {"$skiptoken": str(token + max_page)}
        body["__next"] = f"{base_url}?{urlencode(query)}"
    return body
