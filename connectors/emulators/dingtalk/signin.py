"""Single sign-on: the in-app code (``getuserinfo``) and the browser sign-in (login page → authCode → the
person's token → unionId → userid), with ``/_emulator/oauth/code`` handing out codes."""

from __future__ import annotations

import html
import secrets
import uuid
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response
from connectors.emulators.dingtalk.tokens import Tokens
from connectors.emulators.dingtalk.wire import (
    CODE_SECONDS,
    TOKEN_HEADER,
    TOKEN_SECONDS,
    legacy_error,
    new_error,
    new_throttled,
    read_json,
)


class SignIn(Tokens):
    def control_code(self, request: Request) -> Response:
        body = read_json(request)
        userid = body.get("user_id")
        with self.lock:
            if userid not in self.users:
                return json_response({"error": f"no user {userid!r} in the directory"}, 404)
            code = self._new_code(self.web_codes if body.get("web") else self.codes, userid)
        return json_response({"code": code})

    def _new_code(self, codes: dict[str, tuple[str, float]], userid: str) -> str:
        code = secrets.token_hex(16)
        codes[code] = (userid, self.clock.now() + CODE_SECONDS)
        return code

    def web_authorize(self, request: Request) -> Response:
        """DingTalk's login page (login.dingtalk.com): here a list of the directory's people to sign in as."""
        args = request.args
        if args.get("client_id") != self.app_key or args.get("response_type") != "code" or \
                not args.get("redirect_uri", "").startswith(("http://", "https://")):
            return Response("invalid client_id, response_type or redirect_uri", status=400)
        userid = args.get("user_id")
        if userid:
            with self.lock:
                if userid not in self.users:
                    return Response("no such user", status=404)
                code = self._new_code(self.web_codes, userid)
            query = urlencode({"authCode": code, "state": args.get("state", "")})
            separator = "&" if "?" in args["redirect_uri"] else "?"
            return Response(status=302, headers={"Location": f"{args['redirect_uri']}{separator}{query}"})
        with self.lock:
            links = "".join(f'<li><a href="?{html.escape(urlencode({**args, "user_id": u["userid"]}))}">'
                            f"{html.escape(u['name'])} ({html.escape(u['userid'])})</a></li>"
                            for u in self.users.values())
        page = f"<!doctype html><meta charset=utf-8><title>钉钉登录</title><h1>Sign in as</h1><ul>{links}</ul>"
        return Response(page, content_type="text/html; charset=utf-8")

    def web_user_token(self, request: Request) -> Response:
        if self.throttled_now():
            return new_throttled()
        body = read_json(request)
        if body.get("clientId") != self.app_key or body.get("clientSecret") != self.app_secret:
            return new_error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        with self.lock:
            userid, expires = self.web_codes.pop(str(body.get("code", "")), ("", 0.0))
            if body.get("grantType") != "authorization_code" or userid not in self.users or \
                    expires <= self.clock.now():
                return new_error(400, "invalidAuthCode", "无效的授权码")
            token = secrets.token_hex(16)
            self.user_tokens[token] = (userid, self.clock.now() + TOKEN_SECONDS)
        return json_response({"accessToken": token, "refreshToken": secrets.token_hex(16), "expireIn": TOKEN_SECONDS,
                              "corpId": self.corp_id})

    def web_me(self, request: Request) -> Response:
        if self.throttled_now():
            return new_throttled()
        with self.lock:
            userid, expires = self.user_tokens.get(request.headers.get(TOKEN_HEADER, ""), ("", 0.0))
            user = self.users.get(userid)
            if user is None or expires <= self.clock.now():
                return new_error(400, "InvalidAuthentication", "不合法的access_token")
        return json_response({"nick": user["name"], "unionId": user["unionid"], "openId": "open" + user["unionid"],
                              "avatarUrl": "", "mobile": user.get("mobile", ""), "stateCode": "86"})

    def userid_for_unionid(self, request: Request) -> Response:
        refused = self._legacy_guard(request)
        if refused:
            return refused
        unionid = str(read_json(request).get("unionid", ""))
        with self.lock:
            userid = next((u["userid"] for u in self.users.values() if u["unionid"] == unionid), None)
        if userid is None:
            return legacy_error(60121, "找不到该用户")
        return json_response({"errcode": 0, "errmsg": "ok", "result": {"contact_type": 0, "userid": userid},
                              "request_id": uuid.uuid4().hex})

    def user_for_code(self, request: Request) -> Response:
        refused = self._legacy_guard(request)
        if refused:
            return refused
        with self.lock:
            userid, expires = self.codes.pop(str(read_json(request).get("code", "")), ("", 0.0))
            user = self.users.get(userid)
            if user is None or expires <= self.clock.now():
                return legacy_error(40078, "不存在的临时授权码")
            return json_response({"errcode": 0, "errmsg": "ok", "request_id": uuid.uuid4().hex, "result": {
                "userid": userid, "unionid": user["unionid"], "name": user["name"], "device_id": "emulated",
                "sys": userid == "manager01", "sys_level": 1 if userid == "manager01" else 0,
                "associated_unionid": ""}})
