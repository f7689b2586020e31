"""Cursor paging: ``?cursor=&limit=`` in, ``next_cursor`` in the body and a ``Link: rel="next"`` header out.

The cursor is the engine's opaque keyset cursor (the last row's sort key and id): a page never skips
or repeats a row when rows are added meanwhile, and a cursor the engine cannot read is a 400.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import request

from web.api.fields import Cursor

MAX_LIMIT = 200


class PageArgs(ma.Schema):
    cursor = Cursor(metadata={"description": "the next_cursor of the previous page; omit for the first page"})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(1, MAX_LIMIT),
                              metadata={"description": f"rows per page, 1 to {MAX_LIMIT}"})


def page_schema(row: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A page of ``row``: ``{items: [...], next_cursor}`` (null on the last page)."""
    return ma.Schema.from_dict({
        "items": ma.fields.List(ma.fields.Nested(row), required=True),
        "next_cursor": ma.fields.String(allow_none=True, required=True, metadata={
            "description": "pass as ?cursor= for the next page; null at the end"}),
    }, name=name)


def link_header(next_cursor: str | None) -> dict[str, str]:
    """``Link: <same URL with cursor=next>; rel="next"`` when there is a next page."""
    if not next_cursor:
        return {}
    query: dict[str, Any] = {k: v for k, v in request.args.items() if k != "cursor"}
    query["cursor"] = next_cursor
    return {"Link": f'<{request.base_url}?{urlencode(query)}>; rel="next"'}


def page(items: list[Any], next_cursor: str | None) -> tuple[dict[str, Any], int, dict[str, str]]:
    """What a paged view returns: the body, 200, and the Link header."""
    return {"items": items, "next_cursor": next_cursor}, 200, link_header(next_cursor)
