"""Reading vouchers back with ExecuteBillQuery: by our key, and every voucher of the book in a date range.

``ExecuteBillQuery {"data": {FormId, FieldKeys: "a,b,...", FilterString, OrderString, StartRow, Limit}}``
answers a bare 2-D array: one row per voucher entry, the columns in FieldKeys' order. We page by
``StartRow`` / ``Limit`` (at most 2000 rows) in voucher-id, entry-id order until a short page, and put each
voucher's entries back together. Unverified on a real tenant: the field keys of the flex dimensions
(``FDETAILID__FFLEX5.FNumber``), of the entry id (``FEntity_FEntryID``) and of the payment date
(``FCASHIERDATE``: when the cashier signed off the payment, 出纳复核, which we report as ``paid_on``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from connectors.base import ConnectorError
from connectors.erp import POST_FAILED, BookedVoucher, VoucherLine
from connectors.erp_http import unavailable
from connectors.kingdee.settings import KingdeeSettings
from connectors.kingdee.status import VENDOR, refusal, response_status
from connectors.kingdee.voucher import split_explanation

HEAD = ["FVOUCHERID", "FBillNo", "FDate", "FDocumentStatus", "FCASHIERDATE"]
ENTRY = ["FEXPLANATION", "FACCOUNTID.FNumber", "FCURRENCYID.FNumber", "FAMOUNTFOR", "FDEBIT", "FCREDIT"]
ORDER = "FVOUCHERID ASC,FEntity_FEntryID ASC"
STATUS_TEXT = {"A": "saved", "B": "submitted", "C": "audited", "D": "returned", "Z": "draft"}

Call = Callable[[str, dict[str, Any]], Any]


@dataclass(frozen=True)
class Found:
    """A voucher as the look-up by key finds it: enough to finish it (submit, audit) or report it."""

    voucher_id: int
    number: str
    status: str  # FDocumentStatus: A saved, B submitted, C audited


def like_literal(text: str) -> str:
    """``text`` as a literal inside a FilterString LIKE pattern: quotes doubled, and SQL Server's pattern
    characters bracketed (Kingdee runs on SQL Server; unverified on its Oracle edition)."""
    escaped = text.replace("[", "[[]").replace("%", "[%]").replace("_", "[_]")
    return escaped.replace("'", "''")


def rows(call: Call, fields: list[str], filter_string: str, page_size: int) -> list[list[Any]]:
    """Every row of the query, page after page."""
    found: list[list[Any]] = []
    while True:
        answer = call("ExecuteBillQuery", {"data": {
            "FormId": "GL_VOUCHER", "FieldKeys": ",".join(fields), "FilterString": filter_string,
            "OrderString": ORDER, "TopRowCount": 0, "StartRow": len(found), "Limit": page_size}})
        status = response_status(answer)
        if status is not None:
            raise refusal("ExecuteBillQuery", status)
        if not isinstance(answer, list) or not all(isinstance(row, list) and len(row) == len(fields)
                                                   for row in answer):
            raise unavailable(VENDOR, "ExecuteBillQuery answered rows of the wrong shape", ambiguous=False)
        found.extend(answer)
        if len(answer) < page_size:
            return found


def find(call: Call, key: str, page_size: int) -> Found | None:
    """The voucher saved under ``key`` (the lowest id if, against the rule, there are several)."""
    fields = ["FVOUCHERID", "FBillNo", "FDocumentStatus", "FEXPLANATION"]
    matches = [row for row in rows(call, fields, f"FEXPLANATION like '#{like_literal(key)} %'", page_size)
               if split_explanation(str(row[3] or ""))[0] == key]
    if not matches:
        return None
    first = min(matches, key=lambda row: int(row[0]))
    return Found(int(first[0]), str(first[1] or ""), str(first[2] or ""))


def booked(call: Call, settings: KingdeeSettings, start: date, end: date) -> list[BookedVoucher]:
    """Every voucher of the settings' book dated ``start``..``end``."""
    flex = {f"FDETAILID__{slot}.FNumber": name for name, slot in settings.dimensions.items()}
    fields = [*HEAD, *ENTRY, *flex]
    filter_string = (f"FAccountBookID.FNumber = '{like_literal(settings.book)}' and "
                     f"FDate >= '{start.isoformat()}' and FDate <= '{end.isoformat()}'")
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in rows(call, fields, filter_string, settings.page_size):
        record = dict(zip(fields, row, strict=True))
        grouped.setdefault(int(record["FVOUCHERID"]), []).append(record)
    currencies = {code: iso for iso, code in settings.currencies.items()}
    return [_voucher(entries, flex, currencies) for entries in grouped.values()]


def _voucher(entries: list[dict[str, Any]], flex: dict[str, str], currencies: dict[str, str]) -> BookedVoucher:
    head = entries[0]
    # our key, if the entries that carry one agree (an entry edited by hand may have lost it)
    references = {split_explanation(str(e["FEXPLANATION"] or ""))[0] for e in entries} - {""}
    currency = str(head["FCURRENCYID.FNumber"] or "")
    status = str(head["FDocumentStatus"] or "")
    return BookedVoucher(
        voucher_no=str(head["FBillNo"] or ""), reference=references.pop() if len(references) == 1 else "",
        posting_date=_date(head["FDate"]) or date.min, currency=currencies.get(currency, currency),
        lines=tuple(_line(e, flex) for e in entries), status=STATUS_TEXT.get(status, status),
        paid_on=_date(head["FCASHIERDATE"]), extra={"id": int(head["FVOUCHERID"]), "document_status": status})


def _line(entry: dict[str, Any], flex: dict[str, str]) -> VoucherLine:
    debit, credit = _amount(entry["FDEBIT"]), _amount(entry["FCREDIT"])
    original = _amount(entry["FAMOUNTFOR"]) or debit or credit  # hand-entered lines may lack FAMOUNTFOR
    dimensions = tuple(sorted((name, str(entry[key])) for key, name in flex.items() if entry.get(key)))
    return VoucherLine(str(entry["FACCOUNTID.FNumber"] or ""), original if debit else Decimal(0),
                       Decimal(0) if debit else original, split_explanation(str(entry["FEXPLANATION"] or ""))[1],
                       dimensions)


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except ArithmeticError:
        raise ConnectorError(POST_FAILED, f"{VENDOR} returned an amount that is not a number: {value!r}",
                             vendor=VENDOR) from None


def _date(value: Any) -> date | None:
    """Kingdee's dates come as ``2026-09-11T00:00:00``; empty or the .NET minimum for none."""
    text = str(value or "")[:10]
    if not text or text.startswith("0001"):
        return None
    return date.fromisoformat(text)
