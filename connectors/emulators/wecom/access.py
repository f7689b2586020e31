"""The token and the checks every API call goes through, in WeCom's order: token, IP, rate, then the body."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.emulators.wecom.model import TOKEN_TTL, Token
from connectors.emulators.wecom.replies import Invalid, error, ok
from connectors.emulators.wecom.state import WeComState


class Access(WeComState):
    """``gettoken``, and ``_api``: how every other vendor endpoint runs its handler."""

    def gettoken(self, request: Request) -> Response:
        corpid, secret = request.args.get("corpid", ""), request.args.get("corpsecret", "")
        if corpid != self.corp_id:
            return error(40013, "invalid corpid")
        if secret not in self.apps:
            return error(40001, "invalid credential, access_token is invalid or not latest")
        if self.throttled_now():
            return error(45009, "api freq out of limit")
        now = self.clock.now()
        with self.lock:
            for token, held in self._tokens.items():
                if held.agent_id == self.apps[secret] and held.expires_at > now and not held.fragile:
                    return ok(access_token=token, expires_in=int(held.expires_at - now))
            token = secrets.token_urlsafe(48)
            self._tokens[token] = Token(self.apps[secret], now + TOKEN_TTL, fragile=self.faults.expire_tokens)
        return ok(access_token=token, expires_in=TOKEN_TTL)

    def _caller(self, request: Request, *, approval: bool = False) -> int:
        """The calling app's agent id, after the token, IP and rate checks WeCom makes before reading a body."""
        token = request.args.get("access_token", "")
        if not token:
            raise Invalid(41001, "access_token missing")
        now = self.clock.now()
        with self.lock:
            held = self._tokens.get(token)
            if held is None:
                raise Invalid(40014, "invalid access_token")
            held.uses += 1
            if held.expires_at <= now or (held.fragile and held.uses > 1):
                held.expires_at = min(held.expires_at, now)
                raise Invalid(42001, "access_token expired")
            if self.trusted_ips is not None and request.remote_addr not in self.trusted_ips:
                raise Invalid(60020, f"not allow to access from your ip, from ip: {request.remote_addr}")
            if self.throttled_now() or (approval and not self._approval_quota(now)):
                raise Invalid(45009, "api freq out of limit")
            if self.queued_errors:
                errcode = self.queued_errors.popleft()
                raise Invalid(errcode, "system busy" if errcode == -1 else "injected error")
            return held.agent_id

    def _approval_quota(self, now: float) -> bool:
        calls = self._approval_calls
        while calls and calls[0] <= now - 60:
            calls.popleft()
        if len(calls) >= self.approval_calls_per_minute:
            return False
        calls.append(now)
        return True

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            raise Invalid(47001, "data format error") from None
        if not isinstance(body, dict):
            raise Invalid(47001, "data format error")
        return body

    def _api(self, request: Request, handler: Callable[[Request, int], Response], *,
             approval: bool = False) -> Response:
        try:
            agent_id = self._caller(request, approval=approval)
            return handler(request, agent_id)
        except Invalid as refused:
            return error(refused.errcode, refused.errmsg)
        except (AttributeError, KeyError, TypeError, ValueError):  # a body of the wrong shape: WeCom never 500s
            return error(47001, "data format error")
