"""Kingdee's signed request headers, as its Python WebAPI SDK 8.x builds them (``k3cloud_webapi_sdk``).

We reproduce the SDK instead of calling it: it turns off TLS verification (``verify=False``) and waits up to
120 s per call. What a signed call carries, all recomputed per request:

- ``X-Api-Signature``: base64 of the *hex text* of HMAC-SHA256 over ``"POST\\n" + path + "\\n\\nx-api-nonce:"
  + nonce + "\\nx-api-timestamp:" + ts + "\\n"`` (the path percent-encoded, '/' as %2F too), keyed by
  the AppID's secret part (after ``_``) XOR-decoded with the SDK's built-in code. That key is derived from the
  AppID alone, which also travels in clear in ``X-Kd-Appkey``: this signature only proves freshness.
- ``X-Kd-Signature``: the same HMAC encoding over ``AppID + appdata``, keyed by the app secret: the proof of
  the secret.
- ``X-Kd-Appdata``: base64 of ``"acctId,userName,lcid,orgNum"``.

The SDK sends the timestamp (seconds) as the nonce too, so two calls in one second share a nonce: the gateway
cannot refuse nonce reuse. A tenant may configure its own XOR code (the SDK's ``x-kdapi-secpwd``); we support
only the built-in one.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import hmac
from urllib.parse import quote

# The SDK's built-in XOR code, without the four random digits it interleaves and then skips again.
_XOR_CODE = codecs.encode("0054s397p6234378o09pn7q3r5qropr7", "rot13").encode()


def signing_key(app_id: str) -> str:
    """The X-Api-Signature key: the AppID's part after ``_`` (32 base64 characters), XOR-decoded; "" if the
    AppID has no such part (the SDK then signs with an empty key, and the gateway refuses it)."""
    parts = app_id.split("_")
    if len(parts) != 2 or len(parts[1]) != 32:
        return ""
    try:
        raw = base64.b64decode(parts[1], validate=True)
    except ValueError:
        return ""
    return base64.b64encode(bytes(b ^ _XOR_CODE[i] for i, b in enumerate(raw))).decode()


def hmac_b64hex(content: str, key: str) -> str:
    """Kingdee's signature encoding: base64 of the lower-case hex digest, not of the digest."""
    digest = hmac.new(key.encode(), content.encode(), hashlib.sha256).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def api_signature(path: str, nonce: str, timestamp: str, app_id: str) -> str:
    text = f"POST\n{quote(path, safe='')}\n\nx-api-nonce:{nonce}\nx-api-timestamp:{timestamp}\n"
    return hmac_b64hex(text, signing_key(app_id))


def app_data(acct_id: str, user_name: str, lcid: int, org_num: int) -> str:
    return f"{acct_id},{user_name},{lcid},{org_num}"


def signed_headers(path: str, *, app_id: str, app_secret: str, acct_id: str, user_name: str, lcid: int,
                   org_num: int, timestamp: int) -> dict[str, str]:
    """The headers of one signed call to ``path`` (e.g. ``/k3cloud/Kingdee...Save.common.kdsvc``)."""
    ts = str(timestamp)
    data = app_data(acct_id, user_name, lcid, org_num)
    return {"X-Api-ClientID": app_id.split("_")[0], "X-Api-Auth-Version": "2.0", "x-api-timestamp": ts,
            "x-api-nonce": ts, "x-api-signheaders": "x-api-timestamp,x-api-nonce",
            "X-Api-Signature": api_signature(path, ts, ts, app_id), "X-Kd-Appkey": app_id,
            "X-Kd-Appdata": base64.b64encode(data.encode()).decode(),
            "X-Kd-Signature": hmac_b64hex(app_id + data, app_secret)}
