"""The neutral voucher in U8 OpenAPI's shapes: the voucher/add body, the detail rows read back, its refusals.

``voucher/add`` takes ``{"voucher": {header..., "debit": {"entry": [...]}, "credit": {"entry": [...]}}}``:
each entry one side (``natural_debit_currency`` or ``natural_credit_currency``, the amount in the book's
currency, a number with two decimals), ``entry_id`` (its row in the voucher: the neutral line number),
``account_code``, ``abstract`` and the auxiliary fields (``dept_id``, ``person_id``, ``cust_id``,
``supplier_id``, ``item_id``, ``self_define1``...). A voucher in another currency also carries ``currency``,
``exchange_rate1`` and ``primary_debit_amount``/``primary_credit_amount`` (the amount in that currency;
unverified field names). ``reserve2`` carries the external number (our key) that the read-back filters on as
``coutno_id``.

``voucherdetails/batch_get`` answers one row per entry with the GL table's column names: ``ino_id``
(voucher), ``inid`` (row), ``dbill_date``, ``ccode``, ``md``/``mc`` (debit/credit, book currency),
``md_f``/``mc_f`` and ``cexch_name`` (foreign currency), ``cdigest``, ``cdept_id``, ``cperson_id``, ``ccus_id``,
``csup_id``, ``citem_id``, ``cdefine1``..., ``coutno_id``, ``ibook`` (1: posted), ``iflag`` (1: void), and
``dverifydate``: when the payable row was cleared (核销) by a payment (unverified: a plausible column).

A refusal is ``{"errcode": "<not 0>", "errmsg": ...}``; the emulator's messages name the row as ``第N行`` and
the field in brackets, problems joined by ";" (unverified wording).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from connectors.erp import BookedVoucher, FieldError, VoucherDraft, VoucherLine
from connectors.yonyou.errors import refused
from connectors.yonyou.wire import cents, converted, decimal

VENDOR = "Yonyou U8"
ROW = re.compile(r"第(\d+)行")
FIELD = re.compile(r"[(（]([A-Za-z_][A-Za-z_0-9]*)[)）]")
# An entry's auxiliary field and the detail row's column for it.
ROW_COLUMNS = {"dept_id": "cdept_id", "person_id": "cperson_id", "cust_id": "ccus_id", "supplier_id": "csup_id",
               "item_id": "citem_id", **{f"self_define{n}": f"cdefine{n}" for n in range(1, 17)}}


def voucher_body(draft: VoucherDraft, key: str, *, voucher_type: str, enter: str, book_currency: str,
                 dimensions: Mapping[str, str], today: date) -> dict[str, Any]:
    posting = draft.posting_date or today
    entries = [_entry(n, line, draft, book_currency, dimensions) for n, line in enumerate(draft.lines, start=1)]
    return {"voucher": {
        "voucher_type": draft.voucher_type or voucher_type, "fiscal_year": str(posting.year),
        "accounting_period": str(posting.month), "date": posting.isoformat(), "enter": enter,
        "attachment_volume": draft.attachments, "voucher_making_system": "CDM", "reserve2": key,
        "debit": {"entry": [e for e in entries if "natural_debit_currency" in e]},
        "credit": {"entry": [e for e in entries if "natural_debit_currency" not in e]}}}


def _entry(number: int, line: VoucherLine, draft: VoucherDraft, book_currency: str,
           dimensions: Mapping[str, str]) -> dict[str, Any]:
    foreign = draft.currency != book_currency
    entry: dict[str, Any] = {"entry_id": number, "account_code": line.account, "abstract": line.memo or draft.summary}
    for side, amount in (("debit", line.debit), ("credit", line.credit)):
        if amount or (side == "debit" and not line.credit):  # one side; both only if the draft has both
            entry[f"natural_{side}_currency"] = converted(cents(amount), draft.exchange_rate)
            if foreign:
                entry[f"primary_{side}_amount"] = cents(amount)
    if foreign:
        entry.update(currency=draft.currency, exchange_rate1=draft.exchange_rate)
    for name, code in line.dimensions:
        if name not in dimensions:
            raise refused(VENDOR, f"no U8 auxiliary field is set for dimension {name!r}",
                          [FieldError("entry", number, f"dimension {name} has no mapping")])
        entry[dimensions[name]] = code
    return entry


def field_errors(errmsg: str) -> list[FieldError]:
    text = re.sub(r"^凭证保存失败[:：]?", "", errmsg.strip())
    found = []
    for part in (p.strip() for p in re.split(r"[;；]", text) if p.strip()):
        row, field = ROW.search(part), FIELD.search(part)
        found.append(FieldError(field[1] if field else "voucher", int(row[1]) if row else None, part))
    return found or [FieldError("voucher", None, errmsg)]


def booked(detail_rows: Sequence[Mapping[str, Any]], dimensions: Mapping[str, str],
           book_currency: str) -> BookedVoucher:
    """One voucher from its detail rows (all with the same ``ino_id``), in neutral form."""
    rows = sorted(detail_rows, key=lambda r: int(str(r.get("inid") or 0)))
    neutral = {ROW_COLUMNS.get(field, field): name for name, field in dimensions.items()}
    first = rows[0]
    foreign = str(first.get("cexch_name") or "")
    lines = tuple(VoucherLine(
        str(r.get("ccode", "")), _amount(r, "md", foreign), _amount(r, "mc", foreign), str(r.get("cdigest") or ""),
        tuple(sorted((name, str(r[column])) for column, name in neutral.items() if r.get(column))))
        for r in rows)
    cleared = sorted(str(r["dverifydate"])[:10] for r in rows if r.get("dverifydate"))
    status = "void" if str(first.get("iflag")) == "1" else "posted" if str(first.get("ibook")) == "1" else "saved"
    return BookedVoucher(
        voucher_no=str(first.get("ino_id", "")), reference=str(first.get("coutno_id") or ""),
        posting_date=date.fromisoformat(str(first.get("dbill_date", ""))[:10]), currency=foreign or book_currency,
        lines=lines, status=status, paid_on=date.fromisoformat(cleared[-1]) if cleared else None,
        extra={k: first.get(k) for k in ("csign", "iyear", "iperiod")})


def _amount(row: Mapping[str, Any], column: str, foreign: str) -> Decimal:
    return decimal(row.get(f"{column}_f") if foreign else row.get(column), vendor=VENDOR)
