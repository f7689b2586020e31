"""The DingTalk (钉钉) API client: token, approvals, work notifications, SSO codes, the directory.

DingTalk has two APIs and a company uses both: the new one (``api.dingtalk.com/v1.0/...``, token in the
``x-acs-dingtalk-access-token`` header, errors as HTTP 4xx ``{code, message, requestid}``) for the token and
approvals, and the legacy ``topapi`` (``oapi.dingtalk.com``, ``?access_token=``, HTTP 200 ``{errcode, errmsg}``)
for work notifications, SSO and the directory, where the new API has no equivalent an internal app can use
with the same token. One token (from ``/v1.0/oauth2/accessToken``) serves both.

The token is cached per app key in the injected ``TokenCache``; DingTalk returns the same token (extended) to a
repeat request within its life, so several processes refreshing at once do no harm. A refused token is dropped
and the call retried once with a fresh one; throttling (HTTP 403 ``...QpsLimit...``, errcode 90018/90002, the
"system busy" -1, or the per-IP ban page) waits and retries (``connectors.oa.http.with_retries``).

Secrets (app secret, tokens, SSO codes) never reach a log line, an error message or a repr.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import requests

from connectors.base import ConnectorError
from connectors.oa.http import (
    TIMEOUT,
    Throttled,
    TokenCache,
    TokenRefused,
    new_session,
    redact_secret_params,
    with_retries,
)

log = logging.getLogger(__name__)

VENDOR = "DingTalk"
API_URL = "https://api.dingtalk.com"
LEGACY_URL = "https://oapi.dingtalk.com"
LOGIN_URL = "https://login.dingtalk.com"
TOKEN_HEADER = "x-acs-dingtalk-access-token"  # noqa: S105 (a header name)

_NEW_THROTTLE_CODES = ("Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "Forbidden.AccessDenied.QpsLimitForApi")
_NEW_TOKEN_CODES = ("InvalidAuthentication", "Forbidden.AccessDenied.AccessTokenPermissionDenied")
_LEGACY_TOKEN_ERRCODES = frozenset({40014, 42001, 41001})  # invalid, expired, missing access_token
_LEGACY_THROTTLE_ERRCODES = frozenset({90018, 90002, 90006, -1})  # per app+API, per API, per minute, busy
_LEGACY_SSO_ERRCODES = frozenset({40078})  # 不存在的临时授权码: unknown, used or expired
_INSTANCE_STATUS = {"NEW": "pending", "RUNNING": "pending", "TERMINATED": "cancelled", "CANCELED": "cancelled"}
_PAGE_SIZE = 100
redact_secret_params("urllib3.connectionpool")  # the topapi takes the token in the query string


@dataclass(frozen=True)
class DingTalkClientConfig:
    """One company's DingTalk app: its AppKey and AppSecret (secret: kept out of the repr) and the AgentId work
    notifications are sent as."""

    app_key: str
    app_secret: str = field(repr=False)
    agent_id: int | None = None


class DingTalkClient:
    """Calls DingTalk for one app. ``base_url``: the new API (``API_URL``); ``legacy_url`` and ``login_url``: the
    topapi and the browser sign-in page (``LEGACY_URL`` and ``LOGIN_URL`` when ``base_url`` is the real API, else
    ``base_url`` too: the emulator serves all three)."""

    def __init__(self, config: DingTalkClientConfig, *, base_url: str = API_URL, tokens: TokenCache,
                 session: requests.Session | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, legacy_url: str | None = None,
                 login_url: str | None = None) -> None:
        self.config = config
        self.base_url = base_url.rstrip("/")
        real = self.base_url == API_URL
        self.legacy_url = (legacy_url or (LEGACY_URL if real else self.base_url)).rstrip("/")
        self.login_url = (login_url or (LOGIN_URL if real else self.base_url)).rstrip("/")
        self.tokens = tokens
        self.session = session or new_session()
        self.clock, self.sleep = clock, sleep

    def __repr__(self) -> str:
        return f"DingTalkClient(app_key={self.config.app_key!r}, base_url={self.base_url!r})"

    # ---- the token ----------------------------------------------------------------------------------------

    @property
    def _cache_key(self) -> str:
        return f"dingtalk:{self.config.app_key}"

    def access_token(self) -> str:
        """The app's access token: the cached one while it is good, else a new one from DingTalk."""
        token = self.tokens.get(self._cache_key, self.clock())
        if token:
            return token
        answer = with_retries(self._fetch_token, refresh=lambda: None, vendor=VENDOR, sleep=self.sleep)
        token, expires_in = answer.get("accessToken"), answer.get("expireIn")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise ConnectorError("OA_BAD_RESPONSE", f"{VENDOR} answered the token request without a token",
                                 retryable=True)
        self.tokens.put(self._cache_key, token, self.clock() + expires_in)
        return token

    def _fetch_token(self) -> dict[str, Any]:
        response = self.session.post(f"{self.base_url}/v1.0/oauth2/accessToken", timeout=TIMEOUT,
                                     json={"appKey": self.config.app_key, "appSecret": self.config.app_secret})
        try:
            return _new_api_answer(response, "the token request")
        except TokenRefused:
            raise _auth_failed() from None
        except ConnectorError as exc:
            if exc.code == "OA_BAD_REQUEST":  # a wrong key or secret: HTTP 400 invalidClientIdOrSecret
                raise _auth_failed() from None
            raise


    # ---- approvals ----------------------------------------------------------------------------------------

    def create_approval(self, *, process_code: str, originator_user_id: str, form: Mapping[str, object],
                        dept_id: int | None = None, approvers: Iterable[str] = (), approval_mode: str = "AND",
                        cc_user_ids: Iterable[str] = ()) -> str:
        """Start an approval instance from the template ``process_code``; its instance id.

        ``form``: component name → value (Decimal money is sent as its exact string; floats are refused);
        ``approvers``: the approvers, all of them (AND) or any one (OR) deciding; none: the template's own.
        DingTalk keeps no idempotency key: a retried create after a timeout can make a second instance, so
        timeouts here are reported as not retryable and the caller reconciles (``approval_ids``)."""
        body: dict[str, Any] = {"processCode": process_code, "originatorUserId": originator_user_id,
                                "formComponentValues": [{"name": name, "value": _form_value(value)}
                                                        for name, value in form.items()]}
        if dept_id is not None:
            body["deptId"] = dept_id
        if approvers := list(approvers):
            body["approvers"] = [{"actionType": approval_mode if len(approvers) > 1 else "NONE",
                                  "userIds": approvers}]
        if cc_user_ids := list(cc_user_ids):
            body["ccList"], body["ccPosition"] = cc_user_ids, "FINISH"
        try:
            answer = self._new_api("POST", "/v1.0/workflow/processInstances", "creating an approval", json=body)
        except ConnectorError as exc:
            if exc.code == "OA_TIMEOUT":  # sent, maybe created: a blind retry could make a second instance
                raise ConnectorError("OA_TIMEOUT", f"{VENDOR} did not answer the create in time; the instance may "
                                     "exist: reconcile before creating again", retryable=False,
                                     outcome_unknown=True) from None
            raise
        instance_id = answer.get("instanceId")
        if not isinstance(instance_id, str) or not instance_id:
            raise ConnectorError("OA_BAD_RESPONSE", f"{VENDOR} answered the create without an instance id")
        return instance_id

    def get_approval(self, instance_id: str) -> dict[str, Any]:
        """The instance: ``status`` pending / approved / rejected / cancelled, ``terminal``, DingTalk's ``result``
        and ``business_id``, and its whole answer as ``raw``."""
        try:
            answer = self._new_api("GET", "/v1.0/workflow/processInstances", "reading an approval",
                                   params={"processInstanceId": instance_id})
        except ConnectorError as exc:
            if exc.code == "OA_BAD_REQUEST":  # the only parameter is the id: DingTalk does not know it
                raise ConnectorError("OA_UNKNOWN_INSTANCE", f"{VENDOR} has no approval instance "
                                     f"{instance_id[:64]!r}", **exc.payload) from None
            raise
        raw = answer.get("result")
        if not isinstance(raw, dict):
            raise ConnectorError("OA_UNKNOWN_INSTANCE", f"{VENDOR} has no approval instance {instance_id[:64]!r}")
        status = _normalised_status(raw)
        return {"instance_id": instance_id, "status": status, "terminal": status != "pending",
                "result": raw.get("result", ""),
                "business_id": raw.get("businessId", ""), "raw": raw}

    def approval_ids(self, process_code: str, start_ms: int, end_ms: int | None = None) -> list[str]:
        """The ids of the instances of ``process_code`` created in [start_ms, end_ms] (epoch ms): reconciling."""
        ids: list[str] = []
        cursor: int | None = 0
        while cursor is not None:
            body: dict[str, Any] = {"process_code": process_code, "start_time": start_ms, "size": 20,
                                    "cursor": cursor}
            if end_ms is not None:
                body["end_time"] = end_ms
            result = self._legacy("/topapi/processinstance/listids", "listing approvals", body)["result"]
            ids += result.get("list", [])
            cursor = result.get("next_cursor")
        return ids

    # ---- notifications and SSO ----------------------------------------------------------------------------

    def send_message(self, user_ids: Sequence[str], title: str, text: str, url: str) -> list[str]:
        """A work notification (an action card: ``text`` as markdown, one button opening ``url``); the vendor's
        ids for what was sent: DingTalk sends asynchronously and gives one task id for all recipients."""
        if self.config.agent_id is None:
            raise ConnectorError("OA_NOT_CONFIGURED", "DingTalk work notifications need the app's AgentId")
        users = [u for u in user_ids if u]
        if not users:
            raise ConnectorError("OA_BAD_REQUEST", "a work notification needs at least one recipient")
        card = {"title": title, "markdown": text, "single_title": "查看详情", "single_url": url}
        body = {"agent_id": self.config.agent_id, "userid_list": ",".join(users),
                "msg": {"msgtype": "action_card", "action_card": card}}
        return [str(self._legacy("/topapi/message/corpconversation/asyncsend_v2", "sending a notification",
                                 body)["task_id"])]

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        """Where to send a browser to sign in with DingTalk; it comes back to ``redirect_uri?authCode&state``."""
        query = urlencode({"redirect_uri": redirect_uri, "response_type": "code", "client_id": self.config.app_key,
                           "scope": "openid", "state": state, "prompt": "consent"})
        return f"{self.login_url}/oauth2/auth?{query}"

    def user_for_code(self, code: str, redirect_uri: str = "") -> str:
        """The DingTalk userid behind a sign-in code (single use, 5 minutes).

        Without ``redirect_uri``: a code from inside DingTalk (``dd.requestAuthCode``), one call. With it: the
        ``authCode`` the browser sign-in (``authorize_url``) brought back, three calls: the code for the person's
        own token, the token for their unionId, the unionId for the userid in this company."""
        if redirect_uri:
            return self._user_for_web_code(code)
        result = self._legacy("/topapi/v2/user/getuserinfo", "signing in", {"code": code})["result"]
        return str(result["userid"])

    def _user_for_web_code(self, code: str) -> str:
        def exchange() -> dict[str, Any]:
            response = self.session.post(f"{self.base_url}/v1.0/oauth2/userAccessToken", timeout=TIMEOUT, json={
                "clientId": self.config.app_key, "clientSecret": self.config.app_secret, "code": code,
                "grantType": "authorization_code"})
            try:
                return _new_api_answer(response, "signing in")
            except ConnectorError as exc:
                if exc.code == "OA_BAD_REQUEST":
                    raise _sso_code_invalid(exc.payload.get("vendor_code")) from None
                raise

        person = with_retries(exchange, refresh=lambda: None, vendor=VENDOR, sleep=self.sleep)["accessToken"]

        def me() -> dict[str, Any]:
            response = self.session.get(f"{self.base_url}/v1.0/contact/users/me", headers={TOKEN_HEADER: person},
                                        timeout=TIMEOUT)
            return _new_api_answer(response, "reading who signed in")

        union_id = with_retries(me, refresh=lambda: None, vendor=VENDOR, sleep=self.sleep)["unionId"]
        try:
            found = self._legacy("/topapi/user/getbyunionid", "finding who signed in", {"unionid": union_id})
        except ConnectorError as exc:
            if exc.payload.get("vendor_code") == 60121:
                raise ConnectorError("OA_SSO_UNKNOWN_USER", "the person who signed in is not a member of this "
                                     "DingTalk company", vendor_code=60121) from None
            raise
        return str(found["result"]["userid"])

    # ---- the directory ------------------------------------------------------------------------------------

    def departments(self, root_id: int = 1) -> list[dict[str, Any]]:
        """``root_id`` (DingTalk's root department is 1) and every department under it, parents before
        children: ``department_id``, ``name``, ``parent_id`` (strings; None for the root), DingTalk's ``raw``."""
        root = self._legacy("/topapi/v2/department/get", "reading a department", {"dept_id": root_id})["result"]
        found: list[dict[str, Any]] = [{"department_id": str(root_id), "name": root.get("name", ""),
                                        "parent_id": None, "raw": root}]
        queue, seen = [root_id], {root_id}
        while queue:
            parent = queue.pop(0)
            for dept in self._legacy("/topapi/v2/department/listsub", "listing departments",
                                     {"dept_id": parent})["result"]:
                if int(dept["dept_id"]) in seen:  # a directory edited mid-walk can show a department twice
                    continue
                seen.add(int(dept["dept_id"]))
                found.append({"department_id": str(dept["dept_id"]), "name": dept.get("name", ""),
                              "parent_id": str(dept.get("parent_id", parent)), "raw": dept})
                queue.append(int(dept["dept_id"]))
        return found

    def users(self, department_id: str | int) -> list[dict[str, Any]]:
        """The department's members (direct ones): ``user_id``, ``name``, ``department_ids`` (strings),
        ``active``, plus DingTalk's fields under ``raw``. People who left are not listed at all."""
        people: list[dict[str, Any]] = []
        cursor: int | None = 0
        while cursor is not None:
            result = self._legacy("/topapi/v2/user/list", "listing users",
                                  {"dept_id": int(department_id), "cursor": cursor, "size": _PAGE_SIZE})["result"]
            for user in result.get("list", []):
                people.append({"user_id": user["userid"], "name": user.get("name", ""),
                               "department_ids": [str(d) for d in user.get("dept_id_list", [])],
                               "active": bool(user.get("active", True)), "raw": user})
            cursor = result.get("next_cursor") if result.get("has_more") else None
        return people

    # ---- the two APIs' calls and answers ------------------------------------------------------------------

    def _new_api(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        used: list[str] = []

        def call() -> dict[str, Any]:
            used.append(self.access_token())
            response = self.session.request(method, f"{self.base_url}{path}", headers={TOKEN_HEADER: used[-1]},
                                            timeout=TIMEOUT, **kwargs)
            return _new_api_answer(response, what)
        return with_retries(call, refresh=lambda: self._forget(used[-1]), vendor=VENDOR, sleep=self.sleep)

    def _legacy(self, path: str, what: str, body: dict[str, Any]) -> dict[str, Any]:
        used: list[str] = []

        def call() -> dict[str, Any]:
            used.append(self.access_token())
            response = self.session.post(f"{self.legacy_url}{path}", params={"access_token": used[-1]}, json=body,
                                         timeout=TIMEOUT)
            return _legacy_answer(response, what)
        return with_retries(call, refresh=lambda: self._forget(used[-1]), vendor=VENDOR, sleep=self.sleep)

    def _forget(self, refused: str) -> None:
        """Drop the token DingTalk refused (not whatever is cached now: another process may have replaced it)."""
        self.tokens.drop(self._cache_key, refused)


def _json_answer(response: requests.Response, what: str) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        retryable = response.status_code >= 500
        raise ConnectorError("OA_UNAVAILABLE" if retryable else "OA_BAD_RESPONSE",
                             f"{VENDOR} answered {what} with HTTP {response.status_code} and no JSON",
                             retryable=retryable)
    if answer.get("punish") == "deny":  # the per-IP ban page: "wait" minutes
        raise Throttled(60.0 * float(answer.get("wait") or 5))
    return answer


def _new_api_answer(response: requests.Response, what: str) -> dict[str, Any]:
    """The new API's answer, or the exception its error maps to."""
    answer = _json_answer(response, what)
    if response.status_code < 400:
        return answer
    code = str(answer.get("code", ""))
    if code in _NEW_THROTTLE_CODES:
        raise Throttled(1.0)
    if code in _NEW_TOKEN_CODES:
        raise TokenRefused()
    log.warning("%s refused %s: HTTP %s %s", VENDOR, what, response.status_code, code[:80])
    if response.status_code >= 500:
        raise ConnectorError("OA_UNAVAILABLE", f"{VENDOR} failed {what} (HTTP {response.status_code})",
                             retryable=True)
    message = str(answer.get("message", ""))[:200]
    raise ConnectorError("OA_BAD_REQUEST", f"{VENDOR} refused {what}: {code} {message}", vendor_code=code)


def _legacy_answer(response: requests.Response, what: str) -> dict[str, Any]:
    """The topapi's answer (errcode 0), or the exception its errcode maps to."""
    answer = _json_answer(response, what)
    errcode = answer.get("errcode")
    if errcode == 0:
        return answer
    if errcode in _LEGACY_TOKEN_ERRCODES:
        raise TokenRefused()
    if errcode in _LEGACY_THROTTLE_ERRCODES:
        raise Throttled(1.0)
    message = str(answer.get("errmsg", ""))[:200]
    log.warning("%s refused %s: errcode %s", VENDOR, what, errcode)
    if errcode in _LEGACY_SSO_ERRCODES:
        raise _sso_code_invalid(errcode)
    if errcode == 90020:
        raise ConnectorError("OA_QUOTA_EXHAUSTED", f"{VENDOR}'s monthly API quota is used up", vendor_code=errcode)
    if response.status_code >= 500 or errcode is None:
        raise ConnectorError("OA_UNAVAILABLE", f"{VENDOR} failed {what} (HTTP {response.status_code})",
                             retryable=True)
    raise ConnectorError("OA_REJECTED", f"{VENDOR} refused {what}: errcode {errcode} {message}", vendor_code=errcode)


def _auth_failed() -> ConnectorError:
    return ConnectorError("OA_AUTH_FAILED", f"{VENDOR} refused the app key and secret; check the app's credentials",
                          retryable=False)


def _sso_code_invalid(vendor_code: object) -> ConnectorError:
    return ConnectorError("OA_SSO_CODE_INVALID", f"{VENDOR} does not know the sign-in code (used, expired or never "
                          "issued)", vendor_code=vendor_code)


def _normalised_status(raw: Mapping[str, Any]) -> str:
    status = str(raw.get("status", "")).upper()
    if status == "COMPLETED":
        return "approved" if str(raw.get("result", "")).lower() == "agree" else "rejected"
    return _INSTANCE_STATUS.get(status, "pending")


def _form_value(value: object) -> str:
    """A component's value as DingTalk wants it: a string; Decimal money in plain notation, never a float."""
    if isinstance(value, float):
        raise TypeError("money is Decimal, not float: a float cannot say 0.10 exactly")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("an amount must be a finite number")
        return format(value, "f")
    return str(value)
