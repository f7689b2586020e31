"""App access tokens: issuing them (new API and legacy) and the guard each API call passes first."""

from __future__ import annotations

import secrets

from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response
from connectors.emulators.dingtalk.state import DingTalkState
from connectors.emulators.dingtalk.wire import (
    TOKEN_HEADER,
    TOKEN_SECONDS,
    legacy_error,
    new_error,
    new_throttled,
    read_json,
)


class Tokens(DingTalkState):
    def new_token(self, request: Request) -> Response:
        if self.throttled_now():
            return new_throttled()
        body = read_json(request)
        if body.get("appKey") != self.app_key or body.get("appSecret") != self.app_secret:
            return new_error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        return json_response({"accessToken": self._issue_token(), "expireIn": TOKEN_SECONDS})

    def legacy_token(self, request: Request) -> Response:
        if self.throttled_now():
            return legacy_error(90018, "当前企业调用该接口的qps超过了限制")
        if request.args.get("appkey") != self.app_key or request.args.get("appsecret") != self.app_secret:
            return legacy_error(40089, "不合法的corpid或corpsecret")
        return json_response({"errcode": 0, "errmsg": "ok", "access_token": self._issue_token(),
                              "expires_in": TOKEN_SECONDS})

    def _issue_token(self) -> str:
        """The current token if it is still good (its life extended), else a new one."""
        with self.lock:
            now = self.clock.now()
            token = self.current_token
            if token is None or self.tokens.get(token, 0) <= now:
                token = secrets.token_hex(16)
                self.current_token = token
            self.tokens[token] = now + TOKEN_SECONDS
            self.fresh_tokens.add(token)
            self.token_requests += 1  # answered token requests (a repeat may return the same token)
            return token

    def _token_refusal(self, token: str | None) -> str | None:
        """Why ``token`` is refused ("invalid" or "expired"), or None if it is good."""
        with self.lock:
            expires = self.tokens.get(token or "")
            if expires is None:
                return "invalid"
            if self.faults.expire_tokens and token in self.fresh_tokens:
                del self.tokens[token or ""]
                self.current_token = None
                return "expired"
            self.fresh_tokens.discard(token or "")
            return "expired" if expires <= self.clock.now() else None

    def _new_api_guard(self, request: Request) -> Response | None:
        """The new API's refusal of this call (throttle, token), or None to serve it."""
        if self.throttled_now():
            return new_throttled()
        if self._token_refusal(request.headers.get(TOKEN_HEADER)):
            return new_error(400, "InvalidAuthentication", "不合法的access_token")
        return None

    def _legacy_guard(self, request: Request) -> Response | None:
        if self.throttled_now():
            return legacy_error(90018, "当前企业调用该接口的qps超过了限制")
        refusal = self._token_refusal(request.args.get("access_token"))
        if refusal == "invalid":
            return legacy_error(40014, "不合法的access_token")
        if refusal == "expired":
            return legacy_error(42001, "access_token超时")
        return None
