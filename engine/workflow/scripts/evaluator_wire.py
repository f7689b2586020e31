"""What travels between the engine and its script evaluator processes: tagged JSON, one line per message.

The evaluator runs untrusted code, so what it sends back is parsed as JSON and nothing else: never
pickle (unpickling runs code named by the sender). Task data needs more than JSON's types, so
Decimal, date, datetime, timedelta, UUID, tuple and large ints travel as *tagged* objects
``{"\\u0000": tag, "v": payload}``; a real dict that happens to use the key ``"\\u0000"`` is sent
as a tagged ``dict``. ``decode`` accepts only these shapes, with bounded sizes and depth, and
raises ``WireError`` for anything else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

TAG = "\u0000"
MAX_DEPTH = 100  # deeper than task data may be (MAX_DATA_DEPTH), shallower than the C stack
_SMALL_INT_BITS = 60  # plain JSON ints below this; above, hex avoids Python's int-to-str digit limit
_MAX_INT_HEX_DIGITS = 8192  # 32,768 bits: twice max_int_bits' default
_HEX = re.compile(r"-?[0-9a-f]{1,8192}")
_PAYLOAD_LENGTH = {"dec": 1100, "date": 16, "dt": 40, "uuid": 40}  # Decimal: 1,000 digits plus exponent
_SCALAR_DECODERS: dict[str, Callable[[str], Any]] = {
    "dec": Decimal, "date": date.fromisoformat, "dt": datetime.fromisoformat, "uuid": UUID}
# Leaves that travel as themselves: checked inline, as most of task data is these (no call per leaf).
_PLAIN = frozenset({str, bool, float, type(None)})


class WireError(ValueError):
    """A message that is not what the protocol allows (from a broken or hostile evaluator)."""


class Unencodable(TypeError):
    """A value that cannot be sent to an evaluator (a set, a function, a cycle...)."""


# ---------------------------------------------------------------- encoding (trusted side and evaluator)


def encode(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-able data, with tags for the non-JSON types task data may hold."""
    if depth > MAX_DEPTH:
        raise Unencodable(f"nested more than {MAX_DEPTH} levels deep")
    kind = type(value)
    if kind is str or kind is bool or kind is float or value is None:
        return value
    if kind is int:
        return value if value.bit_length() < _SMALL_INT_BITS else {TAG: "int", "v": format(value, "x")}
    if kind is list:
        return [item if type(item) in _PLAIN else encode(item, depth + 1) for item in value]
    if kind is dict:
        return _encode_dict(value, depth)
    tagged = _encode_scalar(value, kind)
    if tagged is not None:
        return tagged
    if kind is tuple:
        return {TAG: "tuple", "v": [encode(item, depth + 1) for item in value]}
    raise Unencodable(f"a {kind.__name__} value")


def _encode_dict(value: dict[Any, Any], depth: int) -> Any:
    if any(type(key) is not str for key in value):
        raise Unencodable("a dict with keys that are not strings")
    if TAG in value:
        return {TAG: "dict", "v": [[key, encode(item, depth + 1)] for key, item in value.items()]}
    return {key: item if type(item) in _PLAIN else encode(item, depth + 1) for key, item in value.items()}


def _encode_scalar(value: Any, kind: type) -> dict[str, Any] | None:
    if kind is Decimal:
        return {TAG: "dec", "v": str(value)}
    if kind is datetime:
        return {TAG: "dt", "v": value.isoformat()}
    if kind is date:
        return {TAG: "date", "v": value.isoformat()}
    if kind is timedelta:
        return {TAG: "td", "v": [value.days, value.seconds, value.microseconds]}
    if kind is UUID:
        return {TAG: "uuid", "v": str(value)}
    return None


def dumps(message: dict[str, Any]) -> bytes:
    """One protocol line. JSON escapes every newline inside strings, so b"\\n" only ends the line;
    'surrogatepass' lets a lone surrogate in task data travel (it is refused later, with its name)."""
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass") + b"\n"


def loads(line: bytes) -> Any:
    try:
        return json.loads(line.decode("utf-8", "surrogatepass"))
    except (ValueError, RecursionError) as exc:  # ValueError covers bad UTF-8, bad JSON, too many digits
        raise WireError(f"not a JSON line: {str(exc)[:200]}") from None


# ---------------------------------------------------------------- decoding (what came back is untrusted)


def decode(value: Any, depth: int = 0) -> Any:
    """The value ``encode`` made, rebuilt; raises WireError for any other shape."""
    if depth > MAX_DEPTH:
        raise WireError(f"nested more than {MAX_DEPTH} levels deep")
    kind = type(value)
    if kind in (str, bool, float, int) or value is None:
        return value
    if kind is list:
        return [item if type(item) in _PLAIN else decode(item, depth + 1) for item in value]
    if kind is not dict:
        raise WireError(f"unexpected {kind.__name__}")
    if TAG not in value:
        return {key: item if type(item) in _PLAIN else decode(item, depth + 1) for key, item in value.items()}
    if set(value) != {TAG, "v"} or type(value[TAG]) is not str:
        raise WireError("a tagged value must have exactly a str tag and v")
    return _decode_tagged(value[TAG], value["v"], depth)


def _decode_tagged(tag: Any, payload: Any, depth: int) -> Any:
    if tag in ("tuple", "dict"):
        if type(payload) is not list:
            raise WireError(f"{tag} payload must be a list")
        if tag == "tuple":
            return tuple(decode(item, depth + 1) for item in payload)
        return _decode_pairs(payload, depth)
    if tag == "td":
        return _decode_timedelta(payload)
    if tag == "int":
        if type(payload) is not str or not _HEX.fullmatch(payload):
            raise WireError("int payload must be at most 8192 hex digits")
        return int(payload, 16)
    if tag not in _PAYLOAD_LENGTH or type(payload) is not str or len(payload) > _PAYLOAD_LENGTH[tag]:
        raise WireError(f"unknown tag or oversized payload: {str(tag)[:20]!r}")
    try:
        return _SCALAR_DECODERS[tag](payload)
    except (ValueError, InvalidOperation) as exc:
        raise WireError(f"bad {tag} payload: {str(exc)[:100]}") from None


def _decode_pairs(payload: list[Any], depth: int) -> dict[str, Any]:
    result = {}
    for pair in payload:
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
            raise WireError("dict payload must be [str, value] pairs")
        result[pair[0]] = decode(pair[1], depth + 1)
    return result


def _decode_timedelta(payload: Any) -> timedelta:
    if type(payload) is not list or len(payload) != 3 or any(type(part) is not int for part in payload):
        raise WireError("timedelta payload must be [days, seconds, microseconds]")
    try:
        return timedelta(days=payload[0], seconds=payload[1], microseconds=payload[2])
    except OverflowError as exc:
        raise WireError(f"bad timedelta payload: {exc}") from None
