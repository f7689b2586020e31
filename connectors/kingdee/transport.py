"""One authenticated call to Kingdee's WebAPI: signed headers or a session, and the gateway's refusals.

Calls are ``POST {base_url}/k3cloud/<service>.common.kdsvc`` with a JSON body. Two ways in:

- ``auth = "signed"`` (the SDK 8.x way, see ``connectors/kingdee/signing.py``): every call carries fresh signed
  headers. The gateway refuses a bad signature, an unknown app or a stale timestamp (13 minutes old was refused
  on a real gateway; the exact window is unverified) with HTTP 519 and an ``errcode`` body.
- ``auth = "session"`` (community practice): ``AuthService.LoginByAppSecret`` answers ``LoginResultType`` 1 and
  the session id ``KDSVCSessionId``, sent back in the ``kdservice-sessionid`` header as the SDK does. A session
  idle for about 20 minutes comes back as ``MsgCode`` 1: we log in again once and repeat the call once. A call
  refused for a lost session did nothing, so repeating it cannot duplicate a voucher.

Transport failures and 5xx go through ``connectors.erp_http.send`` (retryable, ``ambiguous`` when the request
may have arrived). The app secret is sent only in the login body and the signatures, never logged, and cut out
of any vendor text we quote.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from connectors.base import ConnectorError
from connectors.erp import POST_FAILED
from connectors.erp_http import new_session, send, unavailable
from connectors.kingdee import jsonwire
from connectors.kingdee.settings import KingdeeSettings
from connectors.kingdee.signing import signed_headers
from connectors.kingdee.status import VENDOR, session_lost

log = logging.getLogger(__name__)

SERVICE = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.{op}.common.kdsvc"
LOGIN = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.AuthService.LoginByAppSecret.common.kdsvc"
CHECK_SETTINGS = "check acct_id, user_name, app_id and app_secret in the ERP settings"


class Transport:
    def __init__(self, settings: KingdeeSettings, *, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._http = session or new_session()
        self._clock = clock
        self._timeout = (3.05, settings.timeout_seconds)
        self._session_id: str | None = None
        self._lock = threading.Lock()
        self.logins = 0  # how often this client logged in (tests check the re-login)

    def call(self, op: str, body: dict[str, Any]) -> Any:
        """The parsed answer of DynamicFormService ``op``; a lost session is restored once, transparently."""
        answer = self._post(SERVICE.format(op=op), body)
        if session_lost(answer):
            log.info("Kingdee %s: the session was lost; logging in again", op)
            self._forget_session()
            answer = self._post(SERVICE.format(op=op), body)
        return answer

    def _post(self, path: str, body: dict[str, Any], *, login: bool = False) -> Any:
        headers = {"Content-Type": "application/json", "Accept-Charset": "utf-8",
                   **({} if login else self._auth_headers(path))}
        response = send(self._http, "POST", self.settings.base_url + path, vendor=VENDOR, timeout=self._timeout,
                        data=jsonwire.dumps(body).encode(), headers=headers)
        if response.status_code == 519:
            raise self._gateway_refusal(response)
        if response.status_code == 429:  # a refused call did nothing: safe to repeat
            raise unavailable(VENDOR, "throttled the call (HTTP 429)", ambiguous=False)
        if response.status_code != 200:
            raise ConnectorError(POST_FAILED, f"{VENDOR} answered HTTP {response.status_code} to {path}: "
                                 "check base_url (the site address, without /k3cloud)", vendor=VENDOR)
        try:
            return jsonwire.loads(response.content)
        except ValueError:  # a write may have committed before the answer broke: the retry must look first
            raise unavailable(VENDOR, f"answered {path} with something that is not JSON", ambiguous=True) from None

    def _auth_headers(self, path: str) -> dict[str, str]:
        s = self.settings
        if s.auth == "signed":
            return signed_headers(path, app_id=s.app_id, app_secret=s.app_secret, acct_id=s.acct_id,
                                  user_name=s.user_name, lcid=s.lcid, org_num=s.org_num, timestamp=int(self._clock()))
        return {"kdservice-sessionid": self._current_session()}

    def _current_session(self) -> str:
        with self._lock:
            if self._session_id is None:
                self._session_id = self._login()
            return self._session_id

    def _forget_session(self) -> None:
        with self._lock:
            self._session_id = None

    def _login(self) -> str:
        s = self.settings
        self.logins += 1
        answer = self._post(LOGIN, {"acctID": s.acct_id, "username": s.user_name, "appId": s.app_id,
                                    "appSecret": s.app_secret, "lcid": s.lcid}, login=True)
        session_id = answer.get("KDSVCSessionId") if isinstance(answer, dict) else None
        if not isinstance(answer, dict) or answer.get("LoginResultType") != 1 or not session_id:
            said = self.scrub(str(answer.get("Message") or "") if isinstance(answer, dict) else "")
            raise ConnectorError(POST_FAILED, f"{VENDOR} refused the login ({said or 'no reason given'}): "
                                 f"{CHECK_SETTINGS}", vendor=VENDOR)
        return str(session_id)

    def _gateway_refusal(self, response: requests.Response) -> ConnectorError:
        """HTTP 519: the gateway refused the app or the signature (unverified: the body's exact fields)."""
        try:
            body = response.json()
        except ValueError:
            body = {}
        code = body.get("errcode") if isinstance(body, dict) else None
        said = self.scrub(str(body.get("message") or body.get("errmsg") or "")) if isinstance(body, dict) else ""
        hint = "check this server's clock" if "timestamp" in said.lower() else CHECK_SETTINGS
        return ConnectorError(POST_FAILED, f"{VENDOR}'s gateway refused the call (errcode {code}: {said}): {hint}",
                              vendor=VENDOR, vendor_code=code)

    def scrub(self, text: str) -> str:
        """Vendor text without the app secret or the AppID's secret part, cut short."""
        for secret in (self.settings.app_secret, self.settings.app_id.partition("_")[2]):
            if secret:
                text = text.replace(secret, "***")
        return text[:500]
