"""Who is calling: the SDK 8.x signed headers (checked like the gateway does) or a LoginByAppSecret session.

Signed calls: the AppID (``X-Kd-Appkey``) and client id must be a registered app, the timestamp within
``SIGNATURE_WINDOW`` of the emulator's clock, ``X-Api-Signature`` right for the path, ``X-Kd-Appdata`` name this
data centre and a known user, and ``X-Kd-Signature`` prove the app secret; any failure is HTTP 519. The nonce
is not checked for reuse: the SDK sends the timestamp as the nonce. Session calls: the ``kdservice-sessionid``
header (or cookie) must name a session used within ``SESSION_IDLE``; otherwise the answer is ``MsgCode`` 1.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets

from werkzeug.wrappers import Request, Response

from connectors.emulators.kingdee import replies
from connectors.emulators.kingdee.model import (
    BAD_SIGNATURE,
    SESSION_IDLE,
    SIGNATURE_WINDOW,
    STALE_TIMESTAMP,
    UNKNOWN_APP,
)
from connectors.emulators.kingdee.state import KingdeeState
from connectors.kingdee import jsonwire
from connectors.kingdee.signing import api_signature, hmac_b64hex


class Auth(KingdeeState):
    def authenticate(self, request: Request, *, query: bool) -> Response | None:
        """None if the caller may go on; otherwise Kingdee's refusal."""
        if request.headers.get("X-Kd-Appkey"):
            return self._check_signed(request)
        session_id = request.headers.get("kdservice-sessionid") or request.cookies.get("kdservice-sessionid", "")
        now = self.clock.now()
        with self.lock:
            last = self.sessions.get(session_id)
            if last is None or now - last > SESSION_IDLE:
                self.sessions.pop(session_id, None)
                return replies.session_lost(query=query)
            self.sessions[session_id] = now
        return None

    def _check_signed(self, request: Request) -> Response | None:
        headers = request.headers
        app_id = headers.get("X-Kd-Appkey", "")
        secret = self.apps.get(app_id)
        if secret is None or headers.get("X-Api-ClientID") != app_id.split("_")[0]:
            return replies.gateway_refused(UNKNOWN_APP, "应用ID不存在或未授权 (unknown app)")
        stamp = headers.get("x-api-timestamp", "")
        if not stamp.isdigit() or abs(self.clock.now() - int(stamp)) > SIGNATURE_WINDOW:
            return replies.gateway_refused(STALE_TIMESTAMP, "请求已过期 (timestamp expired)")
        expected = api_signature(request.path, headers.get("x-api-nonce", ""), stamp, app_id)
        if not hmac.compare_digest(expected, headers.get("X-Api-Signature", "")):
            return replies.gateway_refused(BAD_SIGNATURE, "签名验证失败 (signature mismatch)")
        try:
            data = base64.b64decode(headers.get("X-Kd-Appdata", ""), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            data = ""
        acct_id, user_name = (data.split(",") + ["", ""])[:2]
        if acct_id != self.acct_id or user_name not in self.users:
            return replies.gateway_refused(UNKNOWN_APP, "数据中心或用户未授权给该应用 (data centre or user)")
        if not hmac.compare_digest(hmac_b64hex(app_id + data, secret), headers.get("X-Kd-Signature", "")):
            return replies.gateway_refused(BAD_SIGNATURE, "应用密钥签名验证失败 (app secret signature mismatch)")
        return None

    def login_by_app_secret(self, request: Request) -> Response:
        """``AuthService.LoginByAppSecret``: named fields, or the SDK-era ``parameters`` list."""
        fault = self.before_commit(request)
        if fault is not None:
            return fault
        try:
            body = jsonwire.loads(request.get_data() or b"{}")
        except ValueError:
            body = {}
        if isinstance(body, dict) and isinstance(body.get("parameters"), list):
            body = dict(zip(("acctID", "username", "appId", "appSecret", "lcid"), body["parameters"], strict=False))
        given = {str(k).lower(): v for k, v in body.items()} if isinstance(body, dict) else {}
        if (given.get("acctid") != self.acct_id or given.get("username") not in self.users
                or self.apps.get(str(given.get("appid"))) != given.get("appsecret")):
            return replies.kingdee_json({"Message": "第三方系统登录授权的应用ID或密钥错误，或用户不存在",
                                         "MessageCode": "", "LoginResultType": 0, "Context": None})
        session_id = secrets.token_hex(16)
        with self.lock:
            self.sessions[session_id] = self.clock.now()
            self.logins += 1
        return replies.kingdee_json(
            {"Message": None, "MessageCode": "CheckPasswordPolicy", "LoginResultType": 1, "KDSVCSessionId": session_id,
             "Context": {"UserName": given["username"], "DBid": self.acct_id, "SessionId": session_id},
             "IsSuccessByAPI": True},
            headers={"Set-Cookie": f"kdservice-sessionid={session_id}; path=/"})
