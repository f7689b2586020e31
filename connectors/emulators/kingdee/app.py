"""``KingdeeEmulator``: Kingdee's service paths, each call through the faults, the caller check and its handler."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from connectors.emulators.kingdee import replies
from connectors.emulators.kingdee.auth import Auth
from connectors.emulators.kingdee.query import Query
from connectors.emulators.kingdee.replies import error
from connectors.emulators.kingdee.vouchers import Vouchers
from connectors.kingdee import jsonwire

SERVICES = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub"
WRITES = ("Submit", "Audit", "CancelAssign", "Delete")


class KingdeeEmulator(Auth, Vouchers, Query):
    """One K/3 Cloud data centre with one integration app and user, and one account book."""

    rules = [
        Rule(f"{SERVICES}.AuthService.LoginByAppSecret.common.kdsvc", endpoint="login_by_app_secret",
             methods=["POST"]),
        Rule(f"{SERVICES}.DynamicFormService.<op>.common.kdsvc", endpoint="dynamic_form", methods=["POST"]),
    ]

    def dynamic_form(self, request: Request, op: str) -> Response:
        """One DynamicFormService call: faults first, then who calls, then the body."""
        query = op == "ExecuteBillQuery"
        fault = self.before_commit(request)
        if fault is not None:
            return fault
        if self.throttled_now():  # Kingdee documents no throttle: the shape a gateway in front would give
            return replies.kingdee_json({"errcode": 429, "message": "请求过于频繁，请稍后再试"}, 429)
        refused = self.authenticate(request, query=query)
        if refused is not None:
            return refused
        try:
            body = jsonwire.loads(request.get_data() or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return replies.refused([error("请求内容不是 JSON 对象")], query=query)
        if query:
            return self.execute_bill_query(body)
        answer, committed = self._write(op, body)
        return self.after_commit(request, answer) if committed else answer

    def _write(self, op: str, body: dict[str, Any]) -> tuple[Response, bool]:
        if op == "Save":
            return self.save(body)
        if op in WRITES:
            return self.step(op, body)
        return replies.refused([error(f"接口 {op} 未在模拟器中实现")]), False
