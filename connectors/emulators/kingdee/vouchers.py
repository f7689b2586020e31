"""``Save`` of a GL_VOUCHER, checked as Kingdee checks it, and the status steps Submit, Audit, CancelAssign, Delete.

Save refuses, all errors at once (``FieldName``, ``Message``, ``DIndex`` = the 0-based entry for an entry's
field, 0 for the header): a missing book, date, group, group number or status; an unknown book or group; a date
in a closed period; per entry a missing or unknown account (``FACCOUNTID``, through ``rejected_account``),
currency or rate type, an amount with more than two decimals, both or neither of debit and credit, a flex field
that is not ``FDETAILID__FFLEX4..13``; then debit ≠ credit. Nothing is deduplicated: the same voucher saved
twice is two vouchers, as on a real tenant.

Status: Save → A (saved); Submit A → B; Audit B → C (an unsubmitted voucher is refused); CancelAssign B → A;
Delete only A. ``refuse[op] = message`` refuses every call of ``op`` with that message (a test's switch).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug.wrappers import Response

from connectors.emulators.kingdee import replies
from connectors.emulators.kingdee.model import CURRENCIES, GROUPS, RATE_TYPES, TEXT_OF
from connectors.emulators.kingdee.replies import error
from connectors.emulators.kingdee.state import KingdeeState
from connectors.erp import BookedVoucher, VoucherLine
from connectors.kingdee.voucher import split_explanation

FLEX_KEY = re.compile(r"^FDETAILID__(FFLEX([4-9]|1[0-3])|FF\d{6})$")
Answer = tuple[Response, bool]  # (the response, whether anything was written)


def number_of(entity: Any, key: str) -> str:
    return str(entity.get(key, {}).get("FNumber") or "") if isinstance(entity, dict) and \
        isinstance(entity.get(key), dict) else ""


def amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return None


class Vouchers(KingdeeState):
    def save(self, body: dict[str, Any]) -> Answer:
        model = (body.get("data") or {}).get("Model") if body.get("formid") == "GL_VOUCHER" else None
        if not isinstance(model, dict):
            return replies.refused([error("formid 须为 GL_VOUCHER，data.Model 须为对象", "formid")]), False
        errors = self._header_errors(model)
        entries = model.get("FEntity")
        if not isinstance(entries, list) or not entries:
            errors.append(error("凭证分录不能为空", "FEntity"))
            entries = []
        for index, entry in enumerate(entries):
            errors.extend(self._entry_errors(index, entry if isinstance(entry, dict) else {}))
        if not errors:
            debit = sum((amount(e.get("FDEBIT")) or Decimal(0) for e in entries), Decimal(0))
            credit = sum((amount(e.get("FCREDIT")) or Decimal(0) for e in entries), Decimal(0))
            if debit != credit:
                errors.append(error(f"借贷不平衡：借方 {debit}，贷方 {credit}"))
        if errors:
            return replies.refused(errors), False
        voucher = self._book(model, entries)
        return replies.succeeded([{"Id": self.voucher_id(voucher), "Number": voucher.voucher_no, "DIndex": 0}]), True

    def _header_errors(self, model: dict[str, Any]) -> list[dict[str, Any]]:
        errors = []
        book, group = number_of(model, "FAccountBookID"), number_of(model, "FVOUCHERGROUPID")
        if book not in self.books:
            errors.append(error(f"账簿“{book}”不存在" if book else "字段“账簿”是必填项", "FAccountBookID"))
        if group not in GROUPS:
            errors.append(error(f"凭证字“{group}”不存在" if group else "字段“凭证字”是必填项", "FVOUCHERGROUPID"))
        for key, name in (("FVOUCHERGROUPNO", "凭证号"), ("FDocumentStatus", "单据状态")):
            if key not in model:
                errors.append(error(f"字段“{name}”是必填项", key))
        try:
            when = date.fromisoformat(str(model.get("FDate") or "")[:10])
        except ValueError:
            errors.append(error("字段“日期”是必填项，格式 yyyy-MM-dd", "FDate"))
        else:
            if self.closed_through is not None and when <= self.closed_through:
                errors.append(error(f"日期 {when} 所在会计期间已结账，不能保存凭证", "FDate"))
        return errors

    def _entry_errors(self, index: int, entry: dict[str, Any]) -> list[dict[str, Any]]:
        row = f"第{index + 1}行分录："
        errors = []
        account = number_of(entry, "FACCOUNTID")
        if not account or self.rejected_account(account):
            said = f"科目“{account}”不存在或已禁用" if account else "科目是必填项"
            errors.append(error(row + said, "FACCOUNTID", index))
        if number_of(entry, "FCURRENCYID") not in CURRENCIES:
            errors.append(error(row + "币别不存在或为空", "FCURRENCYID", index))
        if number_of(entry, "FEXCHANGERATETYPE") not in RATE_TYPES:
            errors.append(error(row + "汇率类型不存在或为空", "FEXCHANGERATETYPE", index))
        errors.extend(self._amount_errors(row, index, entry))
        details = entry.get("FDetailID") or {}
        for key in details if isinstance(details, dict) else ["FDetailID"]:
            if not FLEX_KEY.match(key) or not number_of(details, key):
                errors.append(error(row + f"核算维度“{key}”不存在或没有编码", key, index))
        return errors

    @staticmethod
    def _amount_errors(row: str, index: int, entry: dict[str, Any]) -> list[dict[str, Any]]:
        values = {key: amount(entry.get(key)) for key in ("FDEBIT", "FCREDIT", "FAMOUNTFOR", "FEXCHANGERATE")}
        bad = [key for key, value in values.items() if value is None or (
            key != "FEXCHANGERATE" and value != value.quantize(Decimal("0.01")))]
        if bad:
            return [error(row + "金额不是数字或超过 2 位小数", key, index) for key in bad]
        if bool(values["FDEBIT"]) == bool(values["FCREDIT"]):
            return [error(row + "借方金额与贷方金额必须且只能录入一个", "FDEBIT", index)]
        return []

    def _book(self, model: dict[str, Any], entries: list[dict[str, Any]]) -> BookedVoucher:
        """The voucher in neutral form: amounts in its own currency (FAMOUNTFOR, else the book amounts)."""
        slots = {slot: name for name, slot in self.flex.items()}
        lines, references = [], set()
        for entry in entries:
            reference, memo = split_explanation(str(entry.get("FEXPLANATION") or ""))
            if reference:
                references.add(reference)
            debit = amount(entry.get("FDEBIT")) or Decimal(0)
            value = amount(entry.get("FAMOUNTFOR")) or debit or amount(entry.get("FCREDIT")) or Decimal(0)
            dimensions = tuple(sorted((slots.get(key[len("FDETAILID__"):], key), number_of(entry["FDetailID"], key))
                                      for key in entry.get("FDetailID") or {}))
            lines.append(VoucherLine(number_of(entry, "FACCOUNTID"), value if debit else Decimal(0),
                                     Decimal(0) if debit else value, memo, dimensions))
        first = entries[0]
        return self.book.add(
            reference=references.pop() if len(references) == 1 else "",
            posting_date=date.fromisoformat(str(model["FDate"])[:10]),
            currency=CURRENCIES[number_of(first, "FCURRENCYID")], lines=lines, status="saved",
            extra={"book": number_of(model, "FAccountBookID"), "group": number_of(model, "FVOUCHERGROUPID"),
                   "attachments": model.get("FATTACHMENTS", 0), "rate": str(amount(first.get("FEXCHANGERATE")) or 1)})

    # -- Submit, Audit, CancelAssign, Delete --------------------------------------------------------------------

    # op -> (the status it needs, the status it leaves, "" for deleted; Kingdee's refusal otherwise)
    STEPS = {"Submit": ("A", "B", "单据不是创建状态，不能提交"),
             "Audit": ("B", "C", "单据未提交或已审核，不能审核"),
             "CancelAssign": ("B", "A", "单据不是已提交状态，不能撤销"),
             "Delete": ("A", "", "已提交或已审核的凭证不能删除")}

    def step(self, op: str, body: dict[str, Any]) -> Answer:
        ids = self._ids(body.get("data") or {})
        if body.get("formid") != "GL_VOUCHER" or not ids:
            return replies.refused([error("formid 须为 GL_VOUCHER，并给出 Ids 或 Numbers", "Ids")]), False
        errors, done = [], []
        for index, voucher_id in enumerate(ids):
            number = self._number(voucher_id)
            failure = self._step_one(op, voucher_id)
            if failure:
                errors.append(error(failure, None, index))
            else:
                done.append({"Id": voucher_id, "Number": number, "DIndex": index})
        if errors:
            return replies.refused(errors), bool(done)
        return replies.succeeded(done, as_text=True), True

    def _step_one(self, op: str, voucher_id: int) -> str:
        """"" when done, else Kingdee's reason."""
        if op in self.refuse:
            return self.refuse[op]
        before, after, refusal = self.STEPS[op]
        with self.lock:
            voucher = self.by_id(voucher_id)
            if voucher is None:
                return f"单据（内码 {voucher_id}）不存在"
            if self.document_status(voucher) != before:
                return refusal
            if after:
                self.book.update(voucher.voucher_no, status=TEXT_OF[after])
            else:
                self.book.delete(voucher.voucher_no)
        return ""

    def _ids(self, data: dict[str, Any]) -> list[int]:
        ids = [int(x) for x in str(data.get("Ids") or "").split(",") if x.strip().isdigit()]
        for number in data.get("Numbers") or []:
            voucher = self.book.get(str(number))
            ids.append(self.voucher_id(voucher) if voucher else 0)
        return ids

    def _number(self, voucher_id: int) -> str:
        voucher = self.by_id(voucher_id)
        return voucher.voucher_no if voucher else ""

