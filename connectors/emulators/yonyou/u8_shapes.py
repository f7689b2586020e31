"""U8 OpenAPI's voucher shapes as the emulator reads and writes them: the voucher/add body, the detail rows
batch_get answers, and a refusal's errmsg (``第N行(field)...``, header problems ``(field)...``, joined by ";")."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from connectors.emulators.yonyou.checks import ParsedLine, ParsedVoucher, Problem, amount, parse_date
from connectors.emulators.yonyou.model import U8_BOOK_CURRENCY, U8_ROW_COLUMNS
from connectors.erp import BookedVoucher

ENTRY_KEYS = {"entry_id", "account_code", "abstract", "natural_debit_currency", "natural_credit_currency",
              "primary_debit_amount", "primary_credit_amount", "currency", "exchange_rate1"}
FIELDS = {"book": "ds_sequence", "voucher_type": "voucher_type", "date": "date", "lines": "entry",
          "account": "account_code", "sides": "entry", "debit": "natural_debit_currency",
          "credit": "natural_credit_currency", "period": "accounting_period", "maker": "enter"}


def parse_add(body: Mapping[str, Any], book: str) -> ParsedVoucher:
    found_voucher = body.get("voucher")
    voucher: Mapping[str, Any] = found_voucher if isinstance(found_voucher, Mapping) else {}
    found: list[Problem] = []
    entries = [(side, e) for side in ("debit", "credit")
               for e in ((voucher.get(side) or {}).get("entry") or []) if isinstance(e, Mapping)]
    entries.sort(key=lambda pair: _entry_id(pair[1]))
    lines = [_line(n, side, e, found) for n, (side, e) in enumerate(entries, start=1)]
    posting = parse_date(voucher.get("date"))
    if posting is not None and (str(voucher.get("fiscal_year")), str(voucher.get("accounting_period"))) != (
            str(posting.year), str(posting.month)):
        found.append(Problem(None, "period", f"会计期间[{voucher.get('fiscal_year')}-"
                                             f"{voucher.get('accounting_period')}]与凭证日期[{posting}]不一致"))
    if not voucher.get("enter"):
        found.append(Problem(None, "maker", "制单人不能为空"))
    currency = str(entries[0][1].get("currency") or U8_BOOK_CURRENCY) if entries else U8_BOOK_CURRENCY
    return ParsedVoucher(book, str(voucher.get("voucher_type") or ""), posting, currency, lines, found)


def _entry_id(entry: Mapping[str, Any]) -> int:
    try:
        return int(entry.get("entry_id") or 0)
    except (TypeError, ValueError):
        return 0


def _line(number: int, side: str, entry: Mapping[str, Any], found: list[Problem]) -> ParsedLine:
    local = {s: amount(entry.get(f"natural_{s}_currency"), number, s, found) for s in ("debit", "credit")}
    original = {s: amount(entry[f"primary_{s}_amount"], number, s, found) if f"primary_{s}_amount" in entry
                else local[s] for s in ("debit", "credit")}
    filled = sum(1 for s in ("debit", "credit") if entry.get(f"natural_{s}_currency") not in (None, ""))
    in_group = entry.get(f"natural_{side}_currency") not in (None, "")  # a debit entry under debit
    return ParsedLine(
        account=str(entry.get("account_code") or ""), debit=original["debit"], credit=original["credit"],
        local_debit=local["debit"], local_credit=local["credit"], memo=str(entry.get("abstract") or ""),
        dimensions=[(k, str(v)) for k, v in entry.items() if k not in ENTRY_KEYS and v not in (None, "")],
        sides=filled if in_group else 0)


def refusal(problems: list[Problem]) -> str:
    def word(p: Problem) -> str:
        field = p.field or FIELDS.get(p.what, "")
        where = f"第{p.line}行" if p.line is not None else ""
        return f"{where}({field}){p.message}" if field else f"{where}{p.message}"
    return "凭证保存失败:" + ";".join(word(p) for p in problems)


def rows(voucher: BookedVoucher, fields: Mapping[str, str]) -> list[dict[str, Any]]:
    """The voucher's detail rows. ``fields``: neutral dimension -> entry field (its row column is the GL
    table's); ``dverifydate`` on a credit row: when the payable was cleared (核销) by a payment."""
    local = voucher.extra.get("local") or [(str(x.debit), str(x.credit)) for x in voucher.lines]
    foreign = voucher.currency != U8_BOOK_CURRENCY
    found = []
    for n, (line, (local_debit, local_credit)) in enumerate(zip(voucher.lines, local, strict=True), start=1):
        row: dict[str, Any] = {
            "ino_id": voucher.voucher_no, "inid": str(n), "iyear": str(voucher.posting_date.year),
            "iperiod": str(voucher.posting_date.month), "csign": voucher.extra.get("voucher_type", "记"),
            "dbill_date": voucher.posting_date.isoformat(), "ccode": line.account, "md": _text(local_debit),
            "mc": _text(local_credit), "cdigest": line.memo, "coutno_id": voucher.reference,
            "ibook": "1" if voucher.status == "posted" else "0", "iflag": "1" if voucher.status == "void" else "0"}
        if foreign:
            row.update(cexch_name=voucher.currency, md_f=_text(line.debit), mc_f=_text(line.credit))
        for name, code in line.dimensions:
            field = fields.get(name, name)
            row[U8_ROW_COLUMNS.get(field, field)] = code
        if line.credit and voucher.paid_on:
            row["dverifydate"] = voucher.paid_on.isoformat()
        found.append(row)
    return found


def _text(value: Decimal | str) -> str:
    return format(Decimal(value).quantize(Decimal("0.01")), "f")


def in_range(voucher: BookedVoucher, start: date | None, end: date | None) -> bool:
    return (start is None or voucher.posting_date >= start) and (end is None or voucher.posting_date <= end)
