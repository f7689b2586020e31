"""The YonBIP endpoints: the data-centre hop, the signed token, addVoucher and the two voucher queries.

Platform refusals come before the body is read, in this order: no token (310001), an unknown or expired
token (310036; the EFI read APIs answer the text ``非法token`` instead), throttled (310039, the
``throttle_every`` fault). addVoucher then checks the voucher (code "404", ``凭证保存不成功,...``), meets the
ERP faults, and books it, unless its businessId is already booked: then code "999" names the first voucher.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.emulators.yonyou.checks import problems
from connectors.emulators.yonyou.model import APP_KEY, APP_SECRET, MAX_PAGE_SIZE, TENANT_ID, TOKEN_TTL
from connectors.emulators.yonyou.replies import Refused, illegal_token_text, yonbip
from connectors.emulators.yonyou.state import YonyouState
from connectors.emulators.yonyou.yonbip_shapes import parse_add, record, refusal


class YonBipApi(YonyouState):
    def yonbip_gateway(self, request: Request) -> Response:
        self.serving("yonbip")
        if request.args.get("tenantId") != TENANT_ID:
            return yonbip("10004", "租户不存在")  # the real code for an unknown tenant is unverified
        base = request.host_url.rstrip("/")
        return yonbip("00000", data={"gatewayUrl": base + self.gateway_path, "tokenUrl": base})

    def yonbip_token(self, request: Request) -> Response:
        self.serving("yonbip")
        key, stamp, signature = (request.args.get(k, "") for k in ("appKey", "timestamp", "signature"))
        if key != APP_KEY:
            return yonbip("10018", "appKey不存在或应用已停用")
        expected = base64.b64encode(hmac.new(APP_SECRET.encode(), f"appKey{key}timestamp{stamp}".encode(),
                                             hashlib.sha256).digest()).decode()
        if not stamp.isdigit() or not hmac.compare_digest(signature, expected):
            return yonbip("10019", "签名校验失败")  # unverified code
        if self.throttled_now():
            return yonbip("310039", "API调用频率超限,请稍后再试")
        return yonbip("00000", data={"access_token": self.issue_token("yonbip"), "expire": TOKEN_TTL})

    def yonbip_add_voucher(self, request: Request) -> Response:
        self.serving("yonbip")
        try:
            body = self._caller_body(request, text_refusal=False)
        except Refused as refused:
            return refused.response
        voucher = parse_add(body)
        found = problems(voucher, books=self.yonbip_books, rejected=self.rejected_account,
                         known_dimensions=set(self.yonbip_dimensions))
        if found:
            return yonbip("404", refusal(found))
        fault = self.before_commit(request)
        if fault is not None:
            return fault
        key = str(body.get("businessId") or "")
        booked, repeat = self.commit("yonbip", voucher, key=key, reference=key, dimensions=self.yonbip_dimensions,
                                     extra={"attachedBill": body.get("attachedBill", 0)})
        if repeat:
            return yonbip("999", f"凭证保存不成功,businessId[{key}]已存在,凭证ID:{booked.voucher_no}")
        return self.after_commit(request, yonbip("200", data={"voucherId": booked.voucher_no, "voucherStatus": "01"}))

    def yonbip_by_id(self, request: Request) -> Response:
        self.serving("yonbip")
        if (down := self.refuse_read()) is not None:
            return down
        try:
            body = self._caller_body(request, text_refusal=True)
        except Refused as refused:
            return refused.response
        voucher = self.book.get(str(body.get("voucherId", "")))
        if voucher is None:
            return yonbip("999", f"凭证[{body.get('voucherId', '')}]不存在")
        return yonbip("200", data=record(voucher, self._filed_codes()))

    def yonbip_query(self, request: Request) -> Response:
        self.serving("yonbip")
        if (down := self.refuse_read()) is not None:
            return down
        try:
            body = self._caller_body(request, text_refusal=True)
            index, size = int(body.get("pageIndex") or 1), int(body.get("pageSize") or 10)
        except Refused as refused:
            return refused.response
        except (TypeError, ValueError):
            return yonbip("999", "pageIndex/pageSize格式错误")
        if not 1 <= size <= MAX_PAGE_SIZE or index < 1:
            return yonbip("999", f"pageSize须在1到{MAX_PAGE_SIZE}之间,pageIndex从1开始")
        candidates = self.book.by_reference(str(body["businessId"])) if body.get("businessId") else self.book.all()
        matching = sorted((v for v in candidates if self._matches(v, body)),
                          key=lambda v: (v.posting_date, v.voucher_no))
        page = matching[(index - 1) * size:index * size]
        return yonbip("200", data={"pageIndex": index, "pageSize": size, "recordCount": len(matching),
                                   "pageCount": -(-len(matching) // size),
                                   "recordList": [record(v, self._filed_codes()) for v in page]})

    # --- helpers -------------------------------------------------------------------------------------------

    def _caller_body(self, request: Request, *, text_refusal: bool) -> dict[str, Any]:
        token = request.args.get("access_token", "")
        if not token:
            raise Refused(yonbip("310001", "access_token不能为空"))
        if not self.token_good("yonbip", token):
            raise Refused(illegal_token_text() if text_refusal else yonbip("310036", "非法token"))
        if self.throttled_now():
            raise Refused(yonbip("310039", "API调用频率超限,请稍后再试"))
        queued = self.next_queued_code()
        if queued:
            raise Refused(yonbip(queued, "网关调用超时" if queued == "310504" else "injected"))
        try:
            body = json.loads(request.get_data() or b"{}", parse_float=Decimal)
        except ValueError:
            raise Refused(yonbip("999", "请求参数不是合法的JSON")) from None
        if not isinstance(body, dict):
            raise Refused(yonbip("999", "请求参数不是合法的JSON"))
        return body

    def _matches(self, voucher: Any, query: Mapping[str, Any]) -> bool:
        day = voucher.posting_date.isoformat()
        return (self.in_book(voucher, str(query.get("accbookCode") or ""))
                and (not query.get("businessId") or voucher.reference == str(query["businessId"]))
                and (not query.get("makeTimeStart") or day >= str(query["makeTimeStart"])[:10])
                and (not query.get("makeTimeEnd") or day <= str(query["makeTimeEnd"])[:10]))

    def _filed_codes(self) -> dict[str, str]:
        return {name: field for field, name in self.yonbip_dimensions.items()}
