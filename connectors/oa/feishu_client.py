"""A client for Feishu's Open Platform: tenant token, approval instances, message cards, OAuth sign-in, contacts.

Every answer is ``{code, msg, data}`` (HTTP 200 or 400). A missing or invalid tenant token (99991661,
99991663) drops the cached token and the call is retried once with a fresh one; a throttled call (HTTP 429 /
99991400) waits the ``x-ogw-ratelimit-reset`` seconds Feishu names (through the injected ``sleep``) and is
retried; Feishu's own server errors (1395001, HTTP 5xx) fail as retryable. Creating an approval passes the
document's key as ``uuid``, so a retried create cannot make a second instance: Feishu answers 60012 and the
client finds the instance made the first time.

Secrets (the app secret, tokens, OAuth codes) are never put in an error message, a log line or a repr.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import requests

from connectors.base import ConnectorError
from connectors.oa.http import TIMEOUT, Throttled, TokenCache, TokenRefused, new_session, with_retries

VENDOR = "Feishu"
TOKEN_REFUSED = {99991661, 99991663}  # missing, invalid (expired included) tenant token
THROTTLED = 99991400
DUPLICATE_UUID = 60012
NOT_FOUND = {1390003}  # instance code not found
BAD_REQUEST = {1390001, 99992402}  # param invalid; field validation failed
SERVER_ERROR = {1395001}
OAUTH_BAD_CODE = {20003, 20004, 20071}  # invalid, expired, redirect mismatch
STATUSES = {"PENDING": "pending", "APPROVED": "approved", "REJECTED": "rejected", "CANCELED": "cancelled",
            "DELETED": "cancelled"}
SUBSCRIPTION_EXISTS = 1390007
LOOKBACK_MS = 7 * 24 * 3600 * 1000  # how far back a duplicate create looks for the first instance


@dataclass(frozen=True)
class FeishuClientConfig:
    """One Feishu app's API credentials (developer console, "Credentials and basic info")."""

    app_id: str
    app_secret: str = field(repr=False)


class FeishuClient:
    def __init__(self, config: FeishuClientConfig, *, base_url: str = "https://open.feishu.cn",
                 tokens: TokenCache, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.session = session or new_session()
        self.clock, self.sleep = clock, sleep
        self._token_key = f"feishu:{config.app_id}"

    def __repr__(self) -> str:
        return f"FeishuClient(app_id={self.config.app_id!r}, base_url={self.base_url!r})"

    # -- the tenant token --------------------------------------------------------------------------------

    def access_token(self) -> str:
        """The cached tenant token, or a new one (Feishu renews it in its last 30 minutes)."""
        cached = self.tokens.get(self._token_key, self.clock())
        if cached:
            return cached
        answer = self._send("POST", "/open-apis/auth/v3/tenant_access_token/internal",
                            json={"app_id": self.config.app_id, "app_secret": self.config.app_secret})
        if answer.status_code == 429:
            raise ConnectorError("OA_THROTTLED", "Feishu throttled the token request", retryable=True)
        body = _decode(answer)
        token, expire = body.get("tenant_access_token"), body.get("expire")
        if body.get("code") != 0 or not isinstance(token, str) or not isinstance(expire, int):
            raise ConnectorError("OA_AUTH_FAILED", f"Feishu refused the app's credentials (code {body.get('code')}); "
                                 "check the app id and secret", retryable=False)
        self.tokens.put(self._token_key, token, self.clock() + expire)
        return token

    def _api(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
             json_body: Any = None, allow: frozenset[int] = frozenset()) -> dict[str, Any]:
        """Call an API with the tenant token: Feishu's whole answer (``code`` 0, or one of ``allow``)."""
        used: list[str] = []

        def attempt() -> dict[str, Any]:
            token = self.access_token()
            used.append(token)
            answer = self._send(method, path, params=params, json=json_body,
                                headers={"Authorization": f"Bearer {token}"})
            return _checked(answer, allow)

        def refresh() -> None:
            self.tokens.drop(self._token_key, used[-1])

        return with_retries(attempt, refresh=refresh, vendor=VENDOR, sleep=self.sleep)

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.request(method, self.base_url + path, timeout=TIMEOUT, **kwargs)
        except requests.Timeout:
            raise ConnectorError("OA_TIMEOUT", "Feishu did not answer in time", retryable=True) from None
        except requests.ConnectionError:
            raise ConnectorError("OA_UNREACHABLE", "Feishu could not be reached", retryable=True) from None

    # -- approvals ---------------------------------------------------------------------------------------

    def create_approval(self, *, template: str, user_id: str = "", form: Sequence[Mapping[str, Any]], key: str,
                        approvers: Mapping[str, Sequence[str]] | None = None, open_id: str = "") -> str:
        """Start an instance of approval definition ``template`` for ``user_id`` (or ``open_id``: Feishu takes
        either); ``form``: the widgets (``{"id", "type", "value"}``, Decimal amounts allowed); ``key``: the
        document's key, sent as ``uuid`` so that creating twice gives one instance. Returns the instance code."""
        if not 1 <= len(key) <= 64:
            raise ConnectorError("OA_BAD_REQUEST", "Feishu's uuid (the document key) is 1 to 64 characters")
        if bool(user_id) == bool(open_id):
            raise ConnectorError("OA_BAD_REQUEST", "name the applicant by user_id or by open_id, one of them")
        body: dict[str, Any] = {"approval_code": template, "uuid": key,
                                "form": json.dumps([_widget(w) for w in form], ensure_ascii=False),
                                **({"user_id": user_id} if user_id else {"open_id": open_id})}
        if approvers:
            body["node_approver_user_id_list"] = [{"key": node, "value": list(users)}
                                                  for node, users in approvers.items()]
        answer = self._api("POST", "/open-apis/approval/v4/instances", json_body=body,
                           allow=frozenset({DUPLICATE_UUID}))
        if answer["code"] == DUPLICATE_UUID:
            return self._instance_with_uuid(template, key)
        return _field(_data(answer), "instance_code")

    def _instance_with_uuid(self, template: str, key: str) -> str:
        """The instance an earlier create with this ``uuid`` made (Feishu only says it exists)."""
        now_ms = int(self.clock() * 1000)
        params = {"approval_code": template, "start_time": str(now_ms - LOOKBACK_MS), "end_time": str(now_ms)}
        for code in self._pages("/open-apis/approval/v4/instances", params, "instance_code_list", page_size=100):
            if self.get_approval(code)["raw"].get("uuid") == key:
                return str(code)
        raise ConnectorError("OA_UNKNOWN_INSTANCE", "Feishu says an instance with this key exists but it was not "
                             "found among the approval's recent instances", retryable=False)

    def get_approval(self, instance_id: str) -> dict[str, Any]:
        """``{"instance_id", "status": pending|approved|rejected|cancelled, "raw": Feishu's data}``."""
        data = _data(self._api("GET", f"/open-apis/approval/v4/instances/{quote(instance_id, safe='')}",
                               params={"user_id_type": "user_id"}))
        status = STATUSES.get(str(data.get("status")))
        if status is None:
            raise ConnectorError("OA_REJECTED", f"Feishu gave the instance an unknown status {data.get('status')!r}")
        return {"instance_id": instance_id, "status": status, "raw": data}

    def subscribe(self, template: str) -> None:  # already subscribed (1390007) is as good as subscribed
        """Ask Feishu to send this approval definition's events (it sends none before)."""
        self._api("POST", f"/open-apis/approval/v4/approvals/{quote(template, safe='')}/subscribe",
                  allow=frozenset({SUBSCRIPTION_EXISTS}))

    # -- messages ----------------------------------------------------------------------------------------

    def send_message(self, user_ids: Sequence[str], title: str, text: str, url: str) -> list[str]:
        """Send each user a message card with ``title``, ``text`` and a button to ``url``; the message ids."""
        card = {"config": {"wide_screen_mode": True},
                "header": {"title": {"tag": "plain_text", "content": title}},
                "elements": [{"tag": "div", "text": {"tag": "plain_text", "content": text}},
                             {"tag": "action", "actions": [{"tag": "button", "type": "primary", "url": url,
                                                           "text": {"tag": "plain_text", "content": "Open"}}]}]}
        content = json.dumps(card, ensure_ascii=False)  # Feishu wants the card as a JSON string
        sent = []
        for user in user_ids:  # the send API takes one receiver
            answer = self._api("POST", "/open-apis/im/v1/messages", params={"receive_id_type": "user_id"},
                               json_body={"receive_id": user, "msg_type": "interactive", "content": content})
            sent.append(_field(_data(answer), "message_id"))
        return sent

    # -- sign-in -----------------------------------------------------------------------------------------

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        """Where to send a browser to sign in with Feishu (it comes back to ``redirect_uri`` with a code)."""
        query = urlencode({"client_id": self.config.app_id, "redirect_uri": redirect_uri, "state": state})
        return f"{self.base_url}/open-apis/authen/v1/authorize?{query}"

    def user_for_code(self, code: str, redirect_uri: str = "") -> str:
        """The Feishu ``open_id`` behind a sign-in code (codes are single use and live 5 minutes): the id the
        data dictionary keeps for each employee (``feishu_open_id``); Feishu advises against email or mobile."""
        return self._user_id(self._user_token(code, redirect_uri))

    def _user_token(self, code: str, redirect_uri: str) -> str:
        body = {"grant_type": "authorization_code", "client_id": self.config.app_id,
                "client_secret": self.config.app_secret, "code": code}
        if redirect_uri:
            body["redirect_uri"] = redirect_uri
        answer = self._send("POST", "/open-apis/authen/v2/oauth/token", json=body)
        if answer.status_code == 429:
            raise ConnectorError("OA_THROTTLED", "Feishu throttled the sign-in", retryable=True)
        granted = _decode(answer)
        if granted.get("code") in OAUTH_BAD_CODE or granted.get("error") == "invalid_grant":
            raise ConnectorError("OA_SSO_CODE_INVALID", "the Feishu sign-in code is invalid, expired or used; "
                                 "sign in again", retryable=False)
        user_token = granted.get("access_token")
        if granted.get("code") != 0 or not isinstance(user_token, str):
            raise ConnectorError("OA_AUTH_FAILED", f"Feishu refused the sign-in (code {granted.get('code')}, "
                                 f"{str(granted.get('error', ''))[:60]}); check the app id and secret",
                                 retryable=False)
        return user_token

    def _user_id(self, user_token: str) -> str:
        answer = self._send("GET", "/open-apis/authen/v1/user_info", headers={"Authorization": f"Bearer {user_token}"})
        info = _decode(answer)
        open_id = (info.get("data") or {}).get("open_id") if info.get("code") == 0 else None
        if not isinstance(open_id, str) or not open_id:
            raise ConnectorError("OA_AUTH_FAILED", "Feishu gave no open_id for the sign-in", retryable=False)
        return open_id

    # -- contacts ----------------------------------------------------------------------------------------

    def departments(self) -> list[dict[str, Any]]:
        """Every department under the root: ``department_id``, ``name``, ``parent_id`` and Feishu's fields."""
        params = {"department_id_type": "department_id", "user_id_type": "user_id", "fetch_child": "true"}
        return [{**item, "department_id": _field(item, "department_id"), "name": item.get("name", ""),
                 "parent_id": str(item.get("parent_department_id", ""))}
                for item in self._pages("/open-apis/contact/v3/departments/0/children", params, "items")
                if not (item.get("status") or {}).get("is_deleted")]

    def users(self, department_id: str) -> list[dict[str, Any]]:
        """The department's direct members: ``user_id``, ``name``, ``department_ids``, ``active`` + Feishu's."""
        params = {"department_id": department_id, "department_id_type": "department_id", "user_id_type": "user_id"}
        return [{**item, "user_id": _field(item, "user_id"), "name": item.get("name", ""),
                 "department_ids": [str(d) for d in item.get("department_ids", [])], "active": _active(item)}
                for item in self._pages("/open-apis/contact/v3/users/find_by_department", params, "items")]

    def _pages(self, path: str, params: Mapping[str, str], items: str, page_size: int = 50) -> Iterator[Any]:
        token = ""
        while True:
            page = {**params, "page_size": str(page_size), **({"page_token": token} if token else {})}
            data = _data(self._api("GET", path, params=page))
            yield from data.get(items) or []
            token = data.get("page_token") or ""
            if not data.get("has_more") or not token:
                return


def _active(user: Mapping[str, Any]) -> bool:
    status = user.get("status") or {}
    return bool(status.get("is_activated", True)) and not any(
        status.get(flag) for flag in ("is_frozen", "is_resigned", "is_exited"))


def _widget(widget: Mapping[str, Any]) -> dict[str, Any]:
    """A form widget with Decimal values as JSON numbers (Feishu's amount widget wants a number)."""
    value = widget.get("value")
    if isinstance(value, Decimal):
        # A Decimal of at most 15 significant digits survives float's shortest repr unchanged.
        if len(value.as_tuple().digits) > 15:
            raise ConnectorError("OA_BAD_REQUEST", "an amount has more digits than Feishu's form can carry exactly")
        return {**widget, "value": float(value)}
    return dict(widget)


def _data(answer: Mapping[str, Any]) -> dict[str, Any]:
    data = answer.get("data")
    if not isinstance(data, dict):
        raise ConnectorError("OA_BAD_RESPONSE", "Feishu's answer has no data object", retryable=True)
    return data


def _field(found: Mapping[str, Any], name: str) -> str:
    """A non-empty id Feishu's answer must carry; where it is missing, a retry is harmless (creates are
    idempotent by uuid)."""
    value = found.get(name)
    if not isinstance(value, str | int) or value == "":
        raise ConnectorError("OA_BAD_RESPONSE", f"Feishu's answer has no {name}", retryable=True)
    return str(value)


def _decode(answer: requests.Response) -> dict[str, Any]:
    """Feishu's JSON answer; a server error or non-JSON answer fails as retryable."""
    if answer.status_code >= 500:
        raise ConnectorError("OA_UNAVAILABLE", f"Feishu answered HTTP {answer.status_code}", retryable=True)
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ConnectorError("OA_UNAVAILABLE", f"Feishu answered HTTP {answer.status_code} without JSON",
                             retryable=True)
    return body


def _checked(answer: requests.Response, allow: frozenset[int]) -> dict[str, Any]:
    """Feishu's answer if its code is 0 (or allowed); otherwise the matching exception."""
    if answer.status_code == 429:
        raise Throttled(_reset_hint(answer))
    body = _decode(answer)
    code = body.get("code")
    if code == 0 or code in allow:
        return body
    if code in TOKEN_REFUSED:
        raise TokenRefused()
    if code == THROTTLED:
        raise Throttled(_reset_hint(answer))
    message = f"Feishu refused the call: code {code}, {str(body.get('msg', ''))[:200]}"
    if code in SERVER_ERROR:
        raise ConnectorError("OA_UNAVAILABLE", message, retryable=True)
    if code in NOT_FOUND:
        raise ConnectorError("OA_UNKNOWN_INSTANCE", message, retryable=False)
    if code in BAD_REQUEST:
        raise ConnectorError("OA_BAD_REQUEST", message, retryable=False)
    raise ConnectorError("OA_REJECTED", message, retryable=False)


def _reset_hint(answer: requests.Response) -> float | None:
    try:
        return float(answer.headers["x-ogw-ratelimit-reset"])
    except (KeyError, ValueError):
        return None
