"""The U8 OpenAPI endpoints: the token, voucher/add (with biz_id) and voucherdetails/batch_get.

Every call but the token names ``from_account``, ``to_account``, ``app_key`` and ``token`` in the query;
the refusals come in this order: 30001 unknown accounts, 30002 unknown app key, 30004 invalid or expired
token, 30009 throttled (the ``throttle_every`` fault). voucher/add then checks the voucher (errcode 20002,
``凭证保存失败:...``), meets the ERP faults and books it, unless its biz_id is already booked: then it answers
the first voucher again, as U8 does (biz_id maps 1:1 to the voucher).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.emulators.yonyou.checks import parse_date, problems
from connectors.emulators.yonyou.model import (
    FROM_ACCOUNT,
    MAX_ROWS_PER_PAGE,
    TO_ACCOUNT,
    TOKEN_TTL,
    U8_APP_KEY,
    U8_APP_SECRET,
)
from connectors.emulators.yonyou.replies import Refused, u8
from connectors.emulators.yonyou.state import YonyouState
from connectors.emulators.yonyou.u8_shapes import in_range, parse_add, refusal, rows


class U8Api(YonyouState):
    def u8_token(self, request: Request) -> Response:
        self.serving("u8")
        args = request.args
        if args.get("from_account") != FROM_ACCOUNT:
            return u8("30001", "from_account不存在")
        if args.get("app_key") != U8_APP_KEY:
            return u8("30002", "app_key不存在")
        if args.get("app_secret") != U8_APP_SECRET:
            return u8("30003", "app_secret错误")
        if self.throttled_now():
            return u8("30009", "调用频率超过限制")
        return u8("0", "", token={"id": self.issue_token("u8"), "expiresIn": TOKEN_TTL})

    def u8_voucher_add(self, request: Request) -> Response:
        self.serving("u8")
        try:
            self._u8_caller(request)
            body = json.loads(request.get_data() or b"{}", parse_float=Decimal)
            if not isinstance(body, dict):
                raise ValueError
        except Refused as refused:
            return refused.response
        except ValueError:
            return u8("20001", "请求体不是合法的JSON")
        voucher = parse_add(body, request.args.get("ds_sequence", ""))
        found = problems(voucher, books=self.u8_books, rejected=self.rejected_account,
                         known_dimensions=set(self.u8_dimensions))
        if found:
            return u8("20002", refusal(found))
        fault = self.before_commit(request)
        if fault is not None:
            return fault
        key = request.args.get("biz_id", "")
        booked, _ = self.commit("u8", voucher, key=key, reference=str(body["voucher"].get("reserve2") or ""),
                                dimensions=self.u8_dimensions, extra={"biz_id": key})
        return self.after_commit(request, u8("0", "", id=booked.voucher_no, tradeid=f"T{booked.voucher_no}"))

    def u8_batch_get(self, request: Request) -> Response:
        self.serving("u8")
        if (down := self.refuse_read()) is not None:
            return down
        args = request.args
        try:
            self._u8_caller(request)
            index, size = int(args.get("page_index", "1")), int(args.get("rows_per_page", "20"))
        except Refused as refused:
            return refused.response
        except ValueError:
            return u8("20001", "page_index/rows_per_page格式错误")
        if index < 1 or not 1 <= size <= MAX_ROWS_PER_PAGE:
            return u8("20001", f"rows_per_page须在1到{MAX_ROWS_PER_PAGE}之间,page_index从1开始")
        start, end = parse_date(args.get("date_begin", "")), parse_date(args.get("date_end", ""))
        outno = args.get("coutno_id", "")
        candidates = self.book.by_reference(outno) if outno else self.book.all()
        vouchers = sorted((v for v in candidates if self.in_book(v, args.get("ds_sequence", ""))
                           and in_range(v, start, end) and (not outno or v.reference == outno)),
                          key=lambda v: (v.posting_date, v.voucher_no))
        fields = {name: field for field, name in self.u8_dimensions.items()}
        every: list[dict[str, Any]] = [row for v in vouchers for row in rows(v, fields)]
        return u8("0", "", page_index=str(index), rows_per_page=str(size), row_count=str(len(every)),
                  page_count=str(-(-len(every) // size)), voucherdetails=every[(index - 1) * size:index * size])

    def _u8_caller(self, request: Request) -> None:
        args = request.args
        if args.get("from_account") != FROM_ACCOUNT or args.get("to_account") != TO_ACCOUNT:
            raise Refused(u8("30001", "from_account或to_account不存在"))
        if args.get("app_key") != U8_APP_KEY:
            raise Refused(u8("30002", "app_key不存在"))
        if not self.token_good("u8", args.get("token", "")):
            raise Refused(u8("30004", "token无效或已过期"))
        if self.throttled_now():
            raise Refused(u8("30009", "调用频率超过限制"))
        queued = self.next_queued_code()
        if queued:
            raise Refused(u8(queued, "injected"))
