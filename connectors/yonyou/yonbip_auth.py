"""YonBIP's two-step sign-in: the tenant's data centre, then a self-built app's HMAC-signed access token.

1. ``GET {auth_url}/open-auth/dataCenter/getGatewayAddress?tenantId=`` answers ``{"code": "00000", "data":
   {"gatewayUrl", "tokenUrl"}}``: where this tenant's APIs and tokens live. It does not change, so it is asked
   once per client.
2. ``GET {tokenUrl}/open-auth/selfAppAuth/base/v1/getAccessToken?appKey&timestamp&signature``: ``timestamp``
   in milliseconds, ``signature`` = base64(HMAC-SHA256(appSecret, "appKey" + appKey + "timestamp" +
   timestamp)), URL-encoded once in the query. Answers ``{"code": "00000", "data": {"access_token", "expire"}}``;
   the token lives 7200 s (``expire``, in seconds: unverified, 7200 is assumed when absent). An unknown appKey
   answers code "10018" (observed); any other code from these two calls is taken as refused credentials too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from connectors.yonyou.errors import credentials_refused
from connectors.yonyou.wire import bad_answer, parse, send

VENDOR = "YonBIP"
AUTH_OK = "00000"
TOKEN_LIFETIME_S = 7200.0


def signature(app_key: str, app_secret: str, timestamp_ms: str) -> str:
    """The token request's signature, before URL encoding (requests encodes the query once)."""
    digest = hmac.new(app_secret.encode(), f"appKey{app_key}timestamp{timestamp_ms}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


@dataclass(frozen=True)
class YonBipCredentials:
    auth_url: str
    tenant_id: str
    app_key: str
    app_secret: str = field(repr=False)


class YonBipAuth:
    """The gateway address (asked once) and new access tokens for one tenant's self-built app."""

    def __init__(self, credentials: YonBipCredentials, session: requests.Session, *,
                 timeout: tuple[float, float], clock: Callable[[], float] = time.time) -> None:
        self.credentials = credentials
        self._session = session
        self._timeout = timeout
        self._clock = clock
        self._gateway: tuple[str, str] | None = None

    def gateway_url(self) -> str:
        return self._addresses()[0]

    def fetch_token(self) -> tuple[str, float]:
        """A new access token and its lifetime in seconds."""
        creds = self.credentials
        stamp = str(int(self._clock() * 1000))
        data = self._get(self._addresses()[1] + "/open-auth/selfAppAuth/base/v1/getAccessToken", {
            "appKey": creds.app_key, "timestamp": stamp,
            "signature": signature(creds.app_key, creds.app_secret, stamp)}, "the app key or secret")
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise bad_answer(VENDOR, "the token request without an access_token")
        return token, float(data.get("expire") or TOKEN_LIFETIME_S)

    def _addresses(self) -> tuple[str, str]:
        if self._gateway is None:
            data = self._get(self.credentials.auth_url + "/open-auth/dataCenter/getGatewayAddress",
                             {"tenantId": self.credentials.tenant_id}, "the tenant id")
            gateway, token_url = data.get("gatewayUrl"), data.get("tokenUrl")
            if not isinstance(gateway, str) or not isinstance(token_url, str) or not gateway or not token_url:
                raise bad_answer(VENDOR, "the data-centre request without gatewayUrl and tokenUrl")
            self._gateway = gateway.rstrip("/"), token_url.rstrip("/")
        return self._gateway

    def _get(self, url: str, params: dict[str, str], what: str) -> dict[str, Any]:
        response = send(self._session, "GET", url, vendor=VENDOR, timeout=self._timeout, params=params)
        answer = parse(response, vendor=VENDOR, ambiguous=False)
        if not isinstance(answer, dict):
            raise bad_answer(VENDOR, f"HTTP {response.status_code} without its JSON object")
        code = str(answer.get("code", ""))
        if code != AUTH_OK:
            raise credentials_refused(VENDOR, f"code {code}: {what} may be wrong")
        data = answer.get("data")
        if not isinstance(data, dict):
            raise bad_answer(VENDOR, "code 00000 without data")
        return data
