"""YonBIP's voucher shapes as the emulator reads and writes them: the addVoucher body, a voucher record, and
a refusal's message (``bodies[i].field:...`` with ``i`` from 0, problems joined by ";")."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connectors.emulators.yonyou.checks import ParsedLine, ParsedVoucher, Problem, amount, parse_date
from connectors.erp import BookedVoucher

FIELDS = {"account": "accsubjectCode", "debit": "debitOriginal", "credit": "creditOriginal",
          "dimension": "clientAuxiliaryList"}
STATUS_CODES = {"temporary": "00", "saved": "01", "error": "02", "audited": "03", "posted": "04", "void": "05"}


def parse_add(body: Mapping[str, Any]) -> ParsedVoucher:
    found: list[Problem] = []
    bodies = [b for b in body.get("bodies") or [] if isinstance(b, Mapping)]
    lines = [_line(n, b, found) for n, b in enumerate(bodies, start=1)]
    posting = parse_date(body.get("makeTime"))
    period = str(body.get("period") or "")
    if posting is not None and period != posting.strftime("%Y-%m"):
        found.append(Problem(None, "period", f"会计期间[{period}]与制单日期[{posting}]不一致"))
    currency = str(bodies[0].get("currencyCode") or "CNY") if bodies else "CNY"
    return ParsedVoucher(str(body.get("accbookCode") or ""), str(body.get("voucherTypeCode") or ""), posting,
                         currency, lines, found)


def _line(number: int, body: Mapping[str, Any], found: list[Problem]) -> ParsedLine:
    debit = amount(body.get("debitOriginal"), number, "debit", found)
    credit = amount(body.get("creditOriginal"), number, "credit", found)
    aux = [(str(a.get("filedCode", "")), str(a.get("valueCode", "")))
           for a in body.get("clientAuxiliaryList") or [] if isinstance(a, Mapping)]
    return ParsedLine(
        account=str(body.get("accsubjectCode") or ""), debit=debit, credit=credit,
        local_debit=amount(body.get("debitOrg", body.get("debitOriginal")), number, "debit", found),
        local_credit=amount(body.get("creditOrg", body.get("creditOriginal")), number, "credit", found),
        memo=str(body.get("description") or ""), dimensions=aux,
        sides=sum(1 for k in ("debitOriginal", "creditOriginal") if body.get(k) not in (None, "")))


def refusal(problems: list[Problem]) -> str:
    """The message of code "404": the vendor's prefix, each problem naming its body field."""
    def word(p: Problem) -> str:
        if p.line is None:
            return p.message
        field = FIELDS.get(p.what)
        return f"bodies[{p.line - 1}]{'.' + field if field else ''}:{p.message}"
    return "凭证保存不成功," + ";".join(word(p) for p in problems)


def record(voucher: BookedVoucher, fields: Mapping[str, str]) -> dict[str, Any]:
    """A voucher as queryVoucherById and queryVouchers answer it. ``fields``: neutral dimension -> filedCode;
    ``verifyDate`` on a credit line: when the payable was cleared (核销) by a payment."""
    local = voucher.extra.get("local") or [(str(x.debit), str(x.credit)) for x in voucher.lines]
    bodies = []
    for n, (line, (local_debit, local_credit)) in enumerate(zip(voucher.lines, local, strict=True), start=1):
        side = "debit" if line.debit else "credit"
        body: dict[str, Any] = {
            "recordNumber": n, "accsubjectCode": line.account, f"{side}Original": line.debit or line.credit,
            f"{side}Org": Decimal(local_debit if line.debit else local_credit), "currencyCode": voucher.currency,
            "description": line.memo,
            "clientAuxiliaryList": [{"filedCode": fields.get(name, name), "valueCode": code}
                                    for name, code in line.dimensions]}
        if side == "credit" and voucher.paid_on:
            body["verifyDate"] = voucher.paid_on.isoformat()
        bodies.append(body)
    return {"voucherId": voucher.voucher_no, "accbookCode": voucher.extra.get("book", ""),
            "voucherTypeCode": voucher.extra.get("voucher_type", ""), "period": voucher.posting_date.strftime("%Y-%m"),
            "makeTime": voucher.posting_date.isoformat(), "businessId": voucher.reference,
            "attachedBill": voucher.extra.get("attachedBill", 0),
            "voucherStatus": STATUS_CODES.get(voucher.status, "01"), "bodies": bodies}
