"""What a request body may be: JSON of bounded size, except on the few endpoints that take an upload.

Checked before the view runs, so a body that is too large (413) or of another type (415) is refused
without being read, and nothing is done.
"""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue

from web.errors import error_response

JSON_LIMIT = 1024 * 1024  # a form, a transfer, a start: far below this
UPLOAD_LIMIT = 12 * 1024 * 1024  # a bundle of diagrams or a data dictionary (the app's own limit, web/settings.py)
UPLOADS: dict[str, tuple[str, ...]] = {}  # endpoint -> content types it takes besides JSON (registered by views)
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def accepts_upload(endpoint: str, *content_types: str) -> None:
    UPLOADS[endpoint] = content_types


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def check_body() -> ResponseReturnValue | None:
    """Run before every API view (after the token check)."""
    extra = UPLOADS.get(request.endpoint or "")
    limit = UPLOAD_LIMIT if extra is not None else JSON_LIMIT
    request.max_content_length = min(limit, request.max_content_length or limit)
    if request.method not in WRITES or not _has_body():
        return None
    if request.content_length is not None and request.content_length > limit:
        return error_response(413, "REQUEST_ENTITY_TOO_LARGE",
                              f"the body has {request.content_length} bytes; this endpoint takes at most {limit}")
    allowed = ("application/json", *(extra or ()))
    if request.mimetype not in allowed:
        return error_response(415, "UNSUPPORTED_MEDIA_TYPE",
                              f"send the body as {' or '.join(allowed)} (it was {request.mimetype or 'untyped'})")
    return None
