"""The WeCom (企业微信) API client: token, approvals, application messages, sign-in and the directory.

WeCom answers every call with HTTP 200 and ``{errcode, errmsg}``; errcode 0 is success. What the others
mean here:

- 40014 / 42001 / 41001 (the token is invalid, expired or missing; so is 40001 from any call but gettoken):
  drop the cached token and retry once with a fresh one;
- 45009 (throttled) and -1 (busy: WeCom's advice is to wait and retry, at most 3 times): wait and retry as
  ``http.with_retries`` does, then fail as retryable ``OA_THROTTLED``;
- 40001 / 40013 from gettoken (secret or corp id), 60020 (this server's IP is not among the app's trusted
  IPs) and 301055 (no permission): ``OA_AUTH_FAILED``;
- 301025 (parameters or template mismatch): ``OA_BAD_REQUEST`` carrying WeCom's own errmsg, except on the
  detail call, where its only parameter is the sheet number: ``OA_UNKNOWN_INSTANCE``.

The access token travels in the query string, as WeCom requires: urllib3 writes request lines to its debug
log, so this module redacts the token, secret and sign-in code from that logger's records.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NoReturn
from urllib.parse import urlencode

import requests

from connectors.base import ConnectorError
from connectors.oa.http import (
    TIMEOUT,
    Throttled,
    TokenCache,
    TokenRefused,
    mask_secret_params,
    new_session,
    redact_secret_params,
    with_retries,
)
from connectors.oa.wecom_callbacks import SP_STATUS, TERMINAL_SP_STATUS

log = logging.getLogger(__name__)

VENDOR = "WeCom"
BASE_URL = "https://qyapi.weixin.qq.com"
SIGN_IN_URL = "https://open.weixin.qq.com"
TOKEN_PATH = "/cgi-bin/gettoken"  # noqa: S105 (a path, not a password)
MAX_WINDOW_S = 31 * 86400  # getapprovalinfo's longest window
LOOKBACK_S = 2 * 86400  # how far back a create with a key looks for the sheet an earlier try made
TOKEN_REFUSED = frozenset({40014, 42001, 41001})
RETRY_LATER = frozenset({45009, -1})
AUTH_FAILED = {40001: "WeCom refused the app secret", 40013: "WeCom refused the corp id",
               60020: "WeCom does not trust this server's IP address: add it to the app's trusted IPs (企业可信IP)",
               301055: "the WeCom app may not use the approval API: list it under 审批 → 可调用接口的应用"}
redact_secret_params("urllib3.connectionpool")


@dataclass(frozen=True)
class WeComClientConfig:
    """A self-built WeCom app: its corp id, secret (kept out of the repr) and agent id (for messages)."""

    corp_id: str
    corp_secret: str = field(repr=False)
    agent_id: int | str  # settings give it as text; WeCom wants a number in message bodies


def money(control_id: str, amount: Decimal) -> dict[str, Any]:
    """A Money control's value: WeCom wants the amount as a string with two decimals."""
    if not isinstance(amount, Decimal):
        raise TypeError("amounts are Decimal")
    return {"control": "Money", "id": control_id, "value": {"new_money": f"{amount.quantize(Decimal('0.01'))}"}}


def number(control_id: str, value: Decimal | int) -> dict[str, Any]:
    return {"control": "Number", "id": control_id, "value": {"new_number": str(value)}}


def text(control_id: str, value: str) -> dict[str, Any]:
    return {"control": "Text", "id": control_id, "value": {"text": value}}


def date(control_id: str, when: datetime, *, with_time: bool = False) -> dict[str, Any]:
    """A Date control: epoch seconds as a string; ``when`` must be timezone-aware."""
    if when.tzinfo is None:
        raise ValueError("dates are timezone-aware")
    return {"control": "Date", "id": control_id,
            "value": {"date": {"type": "hour" if with_time else "day", "s_timestamp": str(int(when.timestamp()))}}}


def table(control_id: str, rows: Sequence[Sequence[dict[str, Any]]]) -> dict[str, Any]:
    """A Table control: each row lists a value for every column control."""
    return {"control": "Table", "id": control_id, "value": {"children": [{"list": list(row)} for row in rows]}}


def _field(answer: Mapping[str, Any], name: str) -> str:
    value = answer.get(name)
    if not isinstance(value, str | int) or value == "":
        raise ConnectorError("OA_BAD_RESPONSE", f"{VENDOR}'s answer has no {name}", retryable=True)
    return str(value)


def _clip(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` UTF-8 bytes without splitting a character."""
    return value.encode()[:limit].decode(errors="ignore")


class WeComClient:
    """One company's WeCom app. ``tokens`` is shared by every process (the engine passes its database cache);
    ``clock`` and ``sleep`` are injected so tests move time instead of waiting."""

    def __init__(self, config: WeComClientConfig, *, base_url: str = BASE_URL, tokens: TokenCache,
                 session: requests.Session | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, sign_in_base_url: str = SIGN_IN_URL) -> None:
        self.config = config
        self._base = base_url.rstrip("/")
        self._sign_in = sign_in_base_url.rstrip("/")
        self._tokens = tokens
        self._session = session or new_session()
        self._clock = clock
        self._sleep = sleep
        self._key = f"wecom:{config.corp_id}:{config.agent_id}"

    def __repr__(self) -> str:
        return f"WeComClient(corp_id={self.config.corp_id!r}, agent_id={self.config.agent_id}, base={self._base!r})"

    # --- the token and the one way every call is made ------------------------------------------------------

    def access_token(self) -> str:
        """The cached token, or a new one from ``gettoken`` (which WeCom answers with the same token while
        it is good)."""
        token = self._tokens.get(self._key, self._clock())
        if token:
            return token
        answer = with_retries(lambda: self._send("GET", TOKEN_PATH, {
            "corpid": self.config.corp_id, "corpsecret": self.config.corp_secret}, None),
            refresh=lambda: None, vendor=VENDOR, sleep=self._sleep)
        token = _field(answer, "access_token")
        self._tokens.put(self._key, token, self._clock() + float(answer.get("expires_in") or 7200))
        return token

    def _call(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
              body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        used: list[str] = []

        def attempt() -> dict[str, Any]:
            used.append(self.access_token())
            return self._send(method, path, {**(params or {}), "access_token": used[-1]}, body)

        return with_retries(attempt, refresh=lambda: self._tokens.drop(self._key, used[-1]), vendor=VENDOR,
                            sleep=self._sleep)

    def _send(self, method: str, path: str, params: Mapping[str, str], body: Mapping[str, Any] | None,
              ) -> dict[str, Any]:
        try:
            response = self._session.request(method, self._base + path, params=params, json=body, timeout=TIMEOUT)
        except (requests.Timeout, requests.ConnectionError):
            raise  # with_retries names these
        except requests.RequestException:  # its message may quote the URL, and the URL carries the token
            raise ConnectorError("OA_UNAVAILABLE", f"{VENDOR} broke off the answer to {path}",
                                 retryable=True) from None
        if response.status_code >= 500:
            raise ConnectorError("OA_UNAVAILABLE", f"{VENDOR} answered HTTP {response.status_code} to {path}",
                                 retryable=True)
        try:
            answer = response.json()
            errcode = int(answer.get("errcode", 0))
        except (ValueError, AttributeError, TypeError):
            raise ConnectorError("OA_BAD_RESPONSE", f"{VENDOR} answered {path} with HTTP {response.status_code} "
                                 "and something that is not its JSON", retryable=True) from None
        if errcode:
            log.info("WeCom %s answered errcode %s", path, errcode)
            self._raise(path, errcode, str(answer.get("errmsg", "")), params)
        return dict(answer)

    def _raise(self, path: str, errcode: int, errmsg: str, params: Mapping[str, str]) -> NoReturn:
        if errcode in TOKEN_REFUSED or (errcode == 40001 and path != TOKEN_PATH):  # 40001 elsewhere: the token
            raise TokenRefused()
        if errcode in RETRY_LATER:
            raise Throttled()
        errmsg = self._scrub(errmsg, params)
        if errcode in AUTH_FAILED:
            raise ConnectorError("OA_AUTH_FAILED", f"{AUTH_FAILED[errcode]} (errcode {errcode})", vendor_code=errcode)
        if errcode == 40029:
            raise ConnectorError("OA_SSO_CODE_INVALID", "the WeCom sign-in code is invalid, used or expired",
                                 vendor_code=errcode)
        if errcode == 301025 and path == "/cgi-bin/oa/getapprovaldetail":
            raise ConnectorError("OA_UNKNOWN_INSTANCE", f"WeCom knows no such approval: {errmsg}", vendor_code=errcode)
        raise ConnectorError("OA_BAD_REQUEST", f"WeCom refused {path} (errcode {errcode}): {errmsg}",
                             vendor_code=errcode)

    def _scrub(self, errmsg: str, params: Mapping[str, str]) -> str:
        """WeCom's errmsg, cut short and without anything secret this call sent."""
        for secret in (self.config.corp_secret, *params.values()):
            if secret and len(secret) >= 8 and secret != self.config.corp_id:
                errmsg = errmsg.replace(secret, "***")
        return mask_secret_params(errmsg)[:300]

    # --- approvals -----------------------------------------------------------------------------------------

    def create_approval(self, *, template: str, user_id: str, form: Sequence[dict[str, Any]],
                        summary: Sequence[str], key: str | None = None,
                        approvers: Sequence[Sequence[str]] | None = None, notify: Sequence[str] = ()) -> str:
        """Submit a sheet of ``template`` as ``user_id``; its sp_no. ``form``: the controls (``money()``,
        ``text()``...); ``summary``: 1 to 3 lines for the card; ``approvers``: one list of user ids per node
        (any one of a node may approve), None for the template's own flow.

        WeCom has no idempotency: the same call twice makes two sheets. ``key`` (the document number, which
        ``form`` must also carry in a Text control) makes a retry safe: a sheet of this template by this user
        from the last ``LOOKBACK_S`` whose Text control holds ``key`` is answered instead of a new one."""
        if not 1 <= len(summary) <= 3:
            raise ConnectorError("OA_BAD_REQUEST", "WeCom shows 1 to 3 summary lines")
        if key is not None:
            if not any(c.get("control") == "Text" and c.get("value", {}).get("text") == key for c in form):
                raise ConnectorError("OA_BAD_REQUEST", "the key must be in a Text control of the form")
            earlier = self.find_approval(template, user_id, key)
            if earlier:
                return earlier
        body: dict[str, Any] = {
            "creator_userid": user_id, "template_id": template,
            "use_template_approver": 1 if approvers is None else 0, "apply_data": {"contents": list(form)},
            "summary_list": [{"summary_info": [{"text": line, "lang": "zh_CN"}]} for line in summary]}
        if approvers is not None:
            body["process"] = {"node_list": [{"type": 1, "apv_rel": 2, "userid": list(node)} for node in approvers]
                               + ([{"type": 2, "userid": list(notify)}] if notify else [])}
        return _field(self._call("POST", "/cgi-bin/oa/applyevent", body=body), "sp_no")

    def find_approval(self, template: str, user_id: str, key: str) -> str | None:
        """The newest sheet of ``template`` by ``user_id`` from the last ``LOOKBACK_S`` that carries ``key`` in a
        Text control, if there is one."""
        for sp_no in reversed(self.approval_ids(template, self._clock() - LOOKBACK_S, creator=user_id)):
            contents = self.get_approval(sp_no)["raw"].get("apply_data", {}).get("contents") or []
            if any(c.get("control") == "Text" and (c.get("value") or {}).get("text") == key for c in contents):
                return sp_no
        return None

    def get_approval(self, instance_id: str) -> dict[str, Any]:
        """The sheet: ``status`` (pending, approved, rejected, cancelled), ``terminal``, ``sp_status`` and
        WeCom's ``raw`` info."""
        info = self._call("POST", "/cgi-bin/oa/getapprovaldetail", body={"sp_no": instance_id}).get("info")
        if not isinstance(info, dict) or not str(info.get("sp_status", "")).isdigit():
            raise ConnectorError("OA_BAD_RESPONSE", f"{VENDOR} answered the detail without the sheet's status",
                                 retryable=True)
        sp_status = int(info["sp_status"])
        return {"instance_id": str(info.get("sp_no", instance_id)), "status": SP_STATUS.get(sp_status, "pending"),
                "terminal": sp_status in TERMINAL_SP_STATUS, "sp_status": sp_status, "raw": info}

    def approval_ids(self, template_id: str | None, start: float, end: float | None = None, *,
                     creator: str | None = None) -> list[str]:
        """The sp_no of every sheet of ``template_id`` (None: any) submitted in [start, end] (epoch seconds; end
        None: now), by ``creator`` if given: reconciliation. WeCom takes at most 31 days a call and pages by
        cursor, so the window is cut and every page read."""
        filters = [{"key": key, "value": value} for key, value in (("template_id", template_id),
                                                                  ("creator", creator)) if value]
        found: list[str] = []
        last = int(self._clock() if end is None else end)
        window_start = int(start)
        while window_start < last:
            window_end = min(last, window_start + MAX_WINDOW_S)
            found += self._approval_pages(window_start, window_end, filters)
            window_start = window_end + 1
        return found

    def _approval_pages(self, start: int, end: int, filters: list[dict[str, str]]) -> list[str]:
        found: list[str] = []
        cursor = ""
        while True:
            page = self._call("POST", "/cgi-bin/oa/getapprovalinfo", body={
                "starttime": str(start), "endtime": str(end), "new_cursor": cursor, "size": 100, "filters": filters})
            found += [str(sp_no) for sp_no in page.get("sp_no_list") or []]
            cursor = str(page.get("new_next_cursor") or "")
            if not cursor:
                return found

    # --- messages and sign-in ------------------------------------------------------------------------------

    def send_message(self, user_ids: Sequence[str], title: str, text: str, url: str) -> list[str]:
        """An application message (a text card opening ``url``) to ``user_ids``; the ids WeCom could not
        deliver to (unknown or disabled). Over-long title and text are cut to WeCom's byte limits."""
        answer = self._call("POST", "/cgi-bin/message/send", body={
            "touser": "|".join(user_ids), "msgtype": "textcard", "agentid": int(self.config.agent_id),
            "textcard": {"title": _clip(title, 128), "description": _clip(text, 512), "url": url, "btntxt": "详情"}})
        return [u for u in str(answer.get("invaliduser") or "").split("|") if u]

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        """Where to send a browser to sign in with WeCom; it comes back to ``redirect_uri?code&state``."""
        query = urlencode({"appid": self.config.corp_id, "redirect_uri": redirect_uri, "response_type": "code",
                           "scope": "snsapi_base", "state": state, "agentid": self.config.agent_id})
        return f"{self._sign_in}/connect/oauth2/authorize?{query}#wechat_redirect"

    def user_for_code(self, code: str, redirect_uri: str = "") -> str:  # noqa: ARG002 - WeCom's exchange needs no redirect
        """The WeCom user id behind a sign-in code (codes are single use and live 5 minutes)."""
        answer = self._call("GET", "/cgi-bin/auth/getuserinfo", params={"code": code})
        user_id = answer.get("userid") or answer.get("UserId")  # older tenants answer UserId
        if not user_id:
            raise ConnectorError("OA_SSO_UNKNOWN_USER", "the person who signed in is not a member of the WeCom "
                                 "corp (WeCom gave an openid, not a user id)")
        return str(user_id)

    # --- the directory -------------------------------------------------------------------------------------

    def departments(self) -> list[dict[str, Any]]:
        """Every department the app can see: ``department_id``, ``name``, ``parent_id`` ("0" above the top
        department) and WeCom's own fields."""
        found = self._call("GET", "/cgi-bin/department/list").get("department") or []
        return [{**d, "department_id": _field(d, "id"), "name": d.get("name", ""),
                 "parent_id": str(d.get("parentid", ""))} for d in found]

    def users(self, department_id: str | int, *, with_subdepartments: bool = False) -> list[dict[str, Any]]:
        """The members of a department: ``user_id``, ``name``, ``department_ids``, ``active`` (WeCom status 1;
        2 is disabled, 4 not yet activated, 5 left) and WeCom's own fields."""
        found = self._call("GET", "/cgi-bin/user/list", params={
            "department_id": str(department_id), "fetch_child": "1" if with_subdepartments else "0"}).get("userlist")
        return [{**u, "user_id": _field(u, "userid"), "name": u.get("name", ""),
                 "department_ids": [str(d) for d in u.get("department") or []], "active": u.get("status") == 1}
                for u in found or []]
