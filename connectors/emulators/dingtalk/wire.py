"""DingTalk's wire shapes: the constants, a request's JSON body, the two APIs' error shapes, its timestamps."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response

TOKEN_SECONDS = 7200
CODE_SECONDS = 300
REPLY_DEADLINE_S = 1.5  # DingTalk counts a slower answer as a failed delivery
TOKEN_HEADER = "x-acs-dingtalk-access-token"  # noqa: S105 (a header name)

DEFAULT_APP_KEY, DEFAULT_APP_SECRET = "dingemulatorappkey", "emulator-app-secret"
DEFAULT_CORP_ID, DEFAULT_AGENT_ID = "dingemulatorcorp", 1000001


def read_json(request: Request) -> dict[str, Any]:
    """The request's JSON object ({} for none, a form post from the page, or something else)."""
    try:
        value = json.loads(request.get_data() or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def legacy_error(errcode: int, errmsg: str) -> Response:
    """The legacy ``topapi``'s refusal: HTTP 200 with an errcode."""
    return json_response({"errcode": errcode, "errmsg": errmsg, "request_id": uuid.uuid4().hex})


def new_error(status: int, code: str, message: str) -> Response:
    """The new API's refusal: an HTTP error status with a code and a message."""
    return json_response({"code": code, "message": message, "requestid": uuid.uuid4().hex.upper()}, status)


def new_throttled() -> Response:
    return new_error(403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
                     "The request has failed due to QPS limit for appkey and api.")


def utc(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(ms / 1000))
