"""The neutral voucher in YonBIP's shapes: the addVoucher body, a voucher read back, and its refusals.

``addVoucher`` takes one side per body line: ``debitOriginal``/``debitOrg`` (the amount in the voucher's
currency and in the book's, numbers with two decimals) or the credit pair. Auxiliary dimensions go in
``clientAuxiliaryList[{filedCode, valueCode}]`` (``filedCode`` is spelled so by the vendor). A refusal is
``{"code": "404" or "999", "message": "凭证保存不成功,..."}``; the message names a body field as
``bodies[i].field`` with ``i`` counted from 0 like the JSON array (unverified: the index base is assumed from
the Java validation paths the platform is built on), several problems joined by ";".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from connectors.erp import BookedVoucher, FieldError, VoucherDraft, VoucherLine
from connectors.yonyou.errors import refused
from connectors.yonyou.wire import cents, converted, decimal

VENDOR = "YonBIP"
# voucherStatus as the vendor documents it.
STATUS = {"00": "temporary", "01": "saved", "02": "error", "03": "audited", "04": "posted", "05": "void"}
BODY_FIELD = re.compile(r"bodies\[(\d+)\](?:\.(\w+))?\s*[:：]?\s*(.*)")
HEADER_FIELDS = ("accbookCode", "voucherTypeCode", "period", "makeTime", "businessId", "srcSystemCode")
# Header refusals in the vendor's words that do not name the field (its documented example: 账簿code不能为空).
HEADER_WORDS = {"账簿": "accbookCode", "凭证类型": "voucherTypeCode", "会计期间": "period", "制单日期": "makeTime",
                "借贷不平衡": "bodies"}
DUPLICATE = re.compile(r"businessId\[(?P<key>[^\]]*)\]已存在(?:.*?凭证ID[:：](?P<id>\w+))?")


def voucher_body(draft: VoucherDraft, key: str, *, book: str, voucher_type: str, src_system: str,
                 dimensions: Mapping[str, str], today: date) -> dict[str, Any]:
    posting = draft.posting_date or today
    return {"accbookCode": draft.book or book, "voucherTypeCode": draft.voucher_type or voucher_type,
            "period": posting.strftime("%Y-%m"), "makeTime": posting.isoformat(), "attachedBill": draft.attachments,
            "businessId": key, "srcSystemCode": src_system,
            "bodies": [_body(line, draft, dimensions) for line in draft.lines]}


def _body(line: VoucherLine, draft: VoucherDraft, dimensions: Mapping[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"accsubjectCode": line.account}
    for side, amount in (("debit", line.debit), ("credit", line.credit)):
        if amount or (side == "debit" and not line.credit):  # one side; both only if the draft has both
            body[f"{side}Original"] = cents(amount)
            body[f"{side}Org"] = converted(amount, draft.exchange_rate)
    # YonBIP has no voucher-level explanation: the summary explains a line that has none of its own.
    body.update(currencyCode=draft.currency, description=line.memo or draft.summary)
    body["clientAuxiliaryList"] = [{"filedCode": _field(dimensions, name), "valueCode": code}
                                   for name, code in line.dimensions]
    return body


def _field(dimensions: Mapping[str, str], name: str) -> str:
    if name not in dimensions:
        raise refused(VENDOR, f"no YonBIP auxiliary field is set for dimension {name!r}",
                      [FieldError("clientAuxiliaryList", None, f"dimension {name} has no mapping")])
    return dimensions[name]


def field_errors(message: str) -> list[FieldError]:
    """Each problem a refusal names: the vendor's field, the 1-based line (None: the header), its words."""
    text = re.sub(r"^凭证保存不成功[,，]?", "", message.strip())
    found: list[FieldError] = []
    for part in (p.strip() for p in re.split(r"[;；]", text) if p.strip()):
        body = BODY_FIELD.search(part)
        if body:
            found.append(FieldError(body[2] or "bodies", int(body[1]) + 1, part))
            continue
        field = next((f for f in HEADER_FIELDS if f in part), None)
        field = field or next((f for words, f in HEADER_WORDS.items() if words in part), "voucher")
        found.append(FieldError(field, None, part))
    return found or [FieldError("voucher", None, message)]


def booked(record: Mapping[str, Any], dimensions: Mapping[str, str]) -> BookedVoucher:
    """A voucher as queryVoucherById / queryVouchers answer it, in neutral form. Auxiliary fields no
    dimension maps to keep the vendor's name (a hand-entered voucher may use others)."""
    neutral = {field: name for name, field in dimensions.items()}
    bodies = [b for b in record.get("bodies") or [] if isinstance(b, Mapping)]
    lines = tuple(VoucherLine(
        str(b.get("accsubjectCode", "")), decimal(b.get("debitOriginal"), vendor=VENDOR),
        decimal(b.get("creditOriginal"), vendor=VENDOR), str(b.get("description") or ""),
        tuple(sorted((neutral.get(str(a.get("filedCode")), str(a.get("filedCode"))), str(a.get("valueCode", "")))
                     for a in b.get("clientAuxiliaryList") or [] if isinstance(a, Mapping))))
        for b in bodies)
    cleared = sorted(str(b["verifyDate"])[:10] for b in bodies if b.get("verifyDate"))
    status = str(record.get("voucherStatus", ""))
    return BookedVoucher(
        voucher_no=str(record.get("voucherId", "")), reference=str(record.get("businessId") or ""),
        posting_date=date.fromisoformat(str(record.get("makeTime", ""))[:10]),
        currency=str(bodies[0].get("currencyCode", "")) if bodies else "", lines=lines,
        status=STATUS.get(status, status), paid_on=date.fromisoformat(cleared[-1]) if cleared else None,
        extra={k: record.get(k) for k in ("accbookCode", "voucherTypeCode", "period", "voucherStatus")})
