"""Tenant tokens: issuing them, and the gate every tenant-token API call passes (throttle, missing, invalid)."""

from __future__ import annotations

import secrets

from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response
from connectors.emulators.feishu.replies import error, read_body
from connectors.emulators.feishu.state import TOKEN_LIFETIME, FeishuState

RENEW_WITHIN = 1800  # Feishu issues a new tenant token in the last 30 minutes of the current one
THROTTLE_RESET_S = 1


class TenantAuth(FeishuState):
    def tenant_token(self, request: Request) -> Response:
        body = read_body(request)
        if body.get("app_id") != self.app_id or body.get("app_secret") != self.app_secret:
            return json_response({"code": 10003, "msg": "invalid param"})  # observed: HTTP 200
        now = self.clock.now()
        with self.lock:
            expires = self.tokens.get(self.current_token, 0.0)
            if expires - now <= RENEW_WITHIN:
                self.current_token = "t-" + secrets.token_hex(16)
                expires = self.tokens[self.current_token] = now + TOKEN_LIFETIME
            return json_response({"code": 0, "msg": "ok", "tenant_access_token": self.current_token,
                                  "expire": int(expires - now)})

    def _refused(self, request: Request) -> Response | None:
        """Feishu's answer to a call that is throttled or has no good tenant token; None if it may proceed."""
        if self.throttled_now():
            return error(99991400, "request trigger frequency limit", 429,
                         {"x-ogw-ratelimit-limit": "50", "x-ogw-ratelimit-reset": str(THROTTLE_RESET_S)})
        given = request.headers.get("Authorization", "")
        if not given.startswith("Bearer ") or not given[7:].strip():
            return error(99991661, "Missing access token for authorization. Please make a request with token "
                         "attached.")
        token = given[7:].strip()
        with self.lock:
            if self.faults.expire_tokens and token in self.tokens:
                self.tokens[token] = 0.0
            if self.tokens.get(token, 0.0) <= self.clock.now():
                return error(99991663, "Invalid access token for authorization. Please make a request with "
                             "token attached.")
        return None
