"""The emulated APIs' answers: JSON with Decimal amounts written as numbers, YonBIP's and U8's envelopes."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Response


def encode(value: Any) -> str:
    """JSON text with Decimal amounts as numbers (``1200.00``), as the vendor writes them."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def reply(body: dict[str, Any], status: int = 200) -> Response:
    return Response(encode(body), status=status, content_type="application/json;charset=UTF-8")


def yonbip(code: str, message: str = "", data: Any = None, status: int = 200) -> Response:
    """YonBIP's envelope: a string ``code`` ("200" success, "00000" for the auth APIs), ``message``, ``data``."""
    body: dict[str, Any] = {"code": code, "message": message or ("操作成功" if code in ("200", "00000") else "")}
    if data is not None:
        body["data"] = data
    return reply(body, status)


def illegal_token_text() -> Response:
    """What the EFI read APIs answer for an illegal token: not JSON, just the words."""
    return Response("非法token", status=200, content_type="text/plain;charset=UTF-8")


def u8(errcode: str, errmsg: str = "", status: int = 200, **fields: Any) -> Response:
    """U8 OpenAPI's envelope: a string ``errcode`` ("0" success) and ``errmsg``, then the call's fields."""
    return reply({"errcode": errcode, "errmsg": errmsg, **fields}, status)


class Refused(Exception):
    """An API call refused before its handler's work: carries the vendor-shaped answer."""

    def __init__(self, response: Response) -> None:
        super().__init__("refused")
        self.response = response
