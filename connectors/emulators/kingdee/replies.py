"""Kingdee's answers: ResponseStatus success and failure, the lost session, the gateway's 519, a server error."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from connectors.kingdee import jsonwire


def kingdee_json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(jsonwire.dumps(body), status=status, headers=headers,
                    content_type="application/json; charset=utf-8")


def error(message: str, field: str | None = None, index: int = 0) -> dict[str, Any]:
    return {"FieldName": field, "Message": message, "DIndex": index}


def response_status(*, success: bool | str, errors: list[dict[str, Any]] | None = None,
                    entities: list[dict[str, Any]] | None = None, msg_code: int = 0) -> dict[str, Any]:
    return {"Result": {"ResponseStatus": {
        "IsSuccess": success, "ErrorCode": 0 if success else 500, "Errors": errors or [],
        "SuccessEntitys": entities or [], "SuccessMessages": [], "MsgCode": msg_code}}}


def succeeded(entities: list[dict[str, Any]], *, as_text: bool = False) -> Response:
    """Success; ``as_text``: IsSuccess as the text "true", the other form Kingdee answers with."""
    return kingdee_json(response_status(success="true" if as_text else True, entities=entities))


def refused(errors: list[dict[str, Any]], *, query: bool = False) -> Response:
    body: Any = response_status(success=False, errors=errors)
    return kingdee_json([[body]] if query else body)


def session_lost(*, query: bool = False) -> Response:
    body: Any = response_status(success=False, msg_code=1, errors=[error("会话信息已丢失，请重新登录")])
    return kingdee_json([[body]] if query else body)


def gateway_refused(errcode: int, message: str) -> Response:
    """The gateway's refusal of an app, user or signature: HTTP 519 with an errcode body (fields unverified)."""
    return kingdee_json({"errcode": errcode, "message": message}, 519)


def server_error() -> Response:
    return kingdee_json(response_status(success=False, errors=[error("服务器内部错误，请稍后重试")]), 500)
