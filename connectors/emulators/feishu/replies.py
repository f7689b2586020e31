"""Feishu's answer shapes: ``{code, msg, data}`` envelopes, the JSON body of a request, and paged lists."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response


def error(code: int, msg: str, status: int = 400, headers: dict[str, str] | None = None) -> Response:
    return json_response({"code": code, "msg": msg, "data": {}}, status, headers)


def ok(data: Any) -> Response:
    return json_response({"code": 0, "msg": "success", "data": data})


def read_body(request: Request) -> dict[str, Any]:
    found = request.get_json(force=True, silent=True)
    return found if isinstance(found, dict) else {}


def paged(request: Request, items: list[dict[str, Any]]) -> Response:
    """The contact API's pages: ``page_token`` is an offset, ``page_size`` at most 50."""
    offset = max(0, request.args.get("page_token", 0, type=int))
    size = max(1, min(50, request.args.get("page_size", 50, type=int)))
    more = offset + size < len(items)
    return ok({"items": items[offset:offset + size], "has_more": more,
               "page_token": str(offset + size) if more else ""})
