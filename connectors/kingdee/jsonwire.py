"""JSON with amounts as numbers, never floats: Kingdee's bodies carry amounts as JSON numbers (``"FDEBIT":1200``).

``dumps`` writes each ``Decimal`` as a number literal with its exact digits (``1200.00``); ``loads`` reads every
non-integer number as a ``Decimal``. The standard encoder can only write numbers through ``float``, so a
``Decimal`` is first written as a tagged string and the tag then replaced by the bare digits.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_TAG = "\u0000decimal:"
_TAGGED = re.compile(r'"\\u0000decimal:(-?\d+(?:\.\d+)?)"')


def _tag(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_TAG}{value:f}"
    if isinstance(value, str):  # a text can never pass for a tagged amount
        return value.replace("\u0000", "")
    if isinstance(value, dict):
        return {key: _tag(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_tag(item) for item in value]
    return value


def dumps(body: Any) -> str:
    """``body`` as JSON text, each ``Decimal`` a number literal (finite values only)."""
    return _TAGGED.sub(r"\1", json.dumps(_tag(body), ensure_ascii=False))


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)
