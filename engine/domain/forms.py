"""What a person may write into a process: a form checked against its task's JSON Schema.

A user task names a form schema (draft 2020-12, ``bpmn/**/forms/*.schema.json``). Before
anything reaches the workflow, a submission is

1. plain JSON: objects with text keys, lists, text, numbers, booleans, null. No dict that
   carries a ``typename`` key: SpiffWorkflow's serializer would revive it as a typed value
   (a ``timedelta`` of 10⁹ days, say) the next time the instance is loaded;
2. free of protected variables (``PROTECTED_VARIABLES`` plus whatever the diagrams' service
   tasks, error and message events, DMN tables and multi-instance items set): who applies,
   whose budget, which reservation, who approves and who is paid are set by the engine;
3. made of the schema's writable fields only: unknown fields are refused, a read-only field
   is dropped when it repeats the current value and refused when it tries to change it;
4. normalised: defaults applied, money (``"format": "money"`` or ``"money-or-zero"``) through
   the one money parser into its canonical text, identifiers (``"format": "identifier"``)
   into their canonical form;
5. validated by ``jsonschema`` with format checks. Strings and arrays are bounded even where
   a schema forgot to say so (``DEFAULT_MAX_LENGTH``, ``DEFAULT_MAX_ITEMS``), and every
   ``"type": "object"`` refuses properties it does not declare.

Every problem names its field (``lines[1].amount: must be more than zero``); one error lists
them all, and nothing is written.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

from engine.domain.attachments import ATTACHMENT_ID
from engine.domain.errors import BudgetflowError, InvalidAmount
from engine.domain.identifiers import InvalidIdentifier, canonical_identifier
from engine.domain.money import format_amount, parse_amount

# Set by the engine from the applicant's record, the ledger and the directory; never by a form.
PROTECTED_VARIABLES = frozenset({
    "applicant", "org_unit", "document_no", "application_no", "reservation_id", "claim_reservation_id",
    "own_reservation", "lane_owners", "countersigners", "approver", "payee", "vendor_code", "outcome",
    "amount_value", "oa_fields", "oa_outcome", "oa_failure", "oa_poll_interval",
})
SERIALIZER_TAG = "typename"  # the key SpiffWorkflow's registry revives typed values by
MAX_FORM_BYTES = 256 * 1024
MAX_DEPTH = 8
DEFAULT_MAX_LENGTH = 2000
DEFAULT_MAX_ITEMS = 200
MONEY_FORMATS = {"money": "positive", "money-or-zero": "non_negative"}
IDENTIFIER_FORMAT = "identifier"
ATTACHMENT_FORMAT = "attachment"  # the id of a file attached to the document (its receipts)
_FORMATS = FormatChecker()
for _name in (*MONEY_FORMATS, IDENTIFIER_FORMAT):  # normalised before validation; the checker only knows them
    _FORMATS.checks(_name)(lambda _value: True)
# Only the id's shape here; the engine checks that it names an attachment of the same document.
_FORMATS.checks(ATTACHMENT_FORMAT)(lambda value: not isinstance(value, str) or bool(ATTACHMENT_ID.fullmatch(value)))


class FormInvalid(BudgetflowError):
    """A submission was refused; ``problems`` names every field that is wrong."""

    code = "FORM_INVALID"

    def __init__(self, problems: list[str], *, form: str = "the form") -> None:
        unique = list(dict.fromkeys(problems))
        super().__init__(f"{form} was refused: " + "; ".join(unique), problems=unique)
        self.problems = unique


# ---------------------------------------------------------------- plain JSON

def plain_json_problems(value: Any, where: str = "", depth: int = 0) -> Iterator[str]:
    """Why ``value`` is not plain JSON data that may enter a process (none if it is)."""
    label = where or "the data"
    if depth > MAX_DEPTH:
        yield f"{label}: nested deeper than {MAX_DEPTH} levels"
    elif isinstance(value, dict):
        if SERIALIZER_TAG in value:
            yield f"{_join(where, SERIALIZER_TAG)}: {SERIALIZER_TAG!r} is reserved for the engine's own values"
        for key, item in value.items():
            if not isinstance(key, str):
                yield f"{label}: key {key!r} is not text"
            else:
                yield from plain_json_problems(item, _join(where, key), depth + 1)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from plain_json_problems(item, f"{label}[{n}]", depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        yield f"{label}: {value} is not a number JSON can carry"
    elif not isinstance(value, str | int | float | bool | Decimal | None):
        yield f"{label}: a {type(value).__name__} is not JSON data"


def check_plain_json(value: Any, *, what: str, max_bytes: int = MAX_FORM_BYTES) -> None:
    """Refuse anything but bounded plain JSON (forms, start data, message payloads, callbacks)."""
    problems = list(plain_json_problems(value))
    if not problems and len(json.dumps(value, default=str, ensure_ascii=False)) > max_bytes:
        problems = [f"larger than {max_bytes // 1024} KiB"]
    if problems:
        raise FormInvalid(problems[:20], form=what)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


# ---------------------------------------------------------------- the schema

class FormSchema:
    """One form's schema, made strict (bounded, closed objects), with its compiled validator."""

    def __init__(self, schema: Mapping[str, Any], *, name: str) -> None:
        problems = schema_problems(schema)
        if problems:
            raise ValueError(f"form schema {name}: " + "; ".join(problems))
        self.name = name
        self.schema = strict_copy(schema)
        self.validator = Draft202012Validator(self.schema, format_checker=_FORMATS)
        properties: Mapping[str, Any] = self.schema.get("properties", {})
        self.read_only = frozenset(k for k, v in properties.items() if v.get("readOnly"))
        self.writable = frozenset(properties) - self.read_only

    def clean(self, submission: Any, *, current: Mapping[str, Any], protected: frozenset[str],
              keep_current: bool = False) -> dict[str, Any]:
        """The fields to write, normalised and valid; raises FormInvalid listing every problem.

        ``keep_current``: the form edits a document (the applicant's own form, reopened after a send
        back): a field left out keeps its current value. Otherwise (an approval) only what is submitted
        counts, so one approver's comment never stands in for the next one's.
        """
        if not isinstance(submission, dict):
            raise FormInvalid([f"expected a JSON object of fields, got a {type(submission).__name__}"], form=self.name)
        check_plain_json(submission, what=self.name)
        problems: list[str] = []
        data = {k: copy.deepcopy(current[k]) for k in self.writable if k in current} if keep_current else {}
        for key, value in submission.items():
            if key in self.read_only and current.get(key) == value:
                continue  # a client that sends back what it was shown changes nothing
            if key in protected:
                problems.append(f"{key}: set by the engine, not by a form")
            elif key in self.read_only:
                problems.append(f"{key}: read-only")
            elif key not in self.writable:
                problems.append(f"{key}: unknown field (this form has {', '.join(sorted(self.writable)) or 'none'})")
            else:
                data[key] = copy.deepcopy(value)
        currency = data.get("currency", current.get("currency", "CNY"))
        failed: set[str] = set()
        data = _normalise(self.schema, data, "", _Context(str(currency), problems, failed))
        problems.extend(describe(e) for e in self.validator.iter_errors(data) if _path(e) not in failed)
        if problems:
            raise FormInvalid(problems, form=self.name)
        return data


def attachment_ids(schema: Mapping[str, Any], value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, id) of every value of ``format: attachment`` in a cleaned form."""
    if isinstance(value, dict) and isinstance(schema.get("properties"), Mapping):
        for key, item in value.items():
            yield from attachment_ids(schema["properties"].get(key, {}), item, _join(path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for n, item in enumerate(value):
            yield from attachment_ids(schema["items"], item, f"{path}[{n}]")
    elif schema.get("format") == ATTACHMENT_FORMAT and isinstance(value, str):
        yield path, value


def schema_problems(schema: Any) -> list[str]:
    """What makes ``schema`` unusable as a form: not a valid draft 2020-12 schema, or not an object form."""
    if not isinstance(schema, Mapping):
        return ["a form schema is a JSON object"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [f"not a valid JSON Schema (draft 2020-12): {exc.message[:200]}"]
    if schema.get("type") != "object":
        return ['a form schema must have "type": "object"']
    return []


def strict_copy(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy where every object refuses undeclared properties and every string and array is bounded."""
    result = copy.deepcopy(dict(schema))
    for node in _subschemas(result):
        kind = node.get("type")
        if kind == "object":
            node.setdefault("additionalProperties", False)
        elif kind == "string" and not {"enum", "const", "maxLength"} & set(node):
            node["maxLength"] = DEFAULT_MAX_LENGTH
        elif kind == "array":
            node.setdefault("maxItems", DEFAULT_MAX_ITEMS)
    return result


def _subschemas(node: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(node, dict):
        return
    yield node
    for key in ("properties", "$defs", "patternProperties"):
        for child in (node.get(key) or {}).values():
            yield from _subschemas(child)
    for key in ("items", "additionalProperties", "if", "then", "else", "not", "contains"):
        yield from _subschemas(node.get(key))
    for key in ("allOf", "anyOf", "oneOf", "prefixItems"):
        for child in node.get(key) or []:
            yield from _subschemas(child)


# ---------------------------------------------------------------- normalising

class _Context:
    def __init__(self, currency: str, problems: list[str], failed: set[str]) -> None:
        self.currency, self.problems, self.failed = currency, problems, failed


def _normalise(schema: Mapping[str, Any], value: Any, path: str, ctx: _Context) -> Any:
    """Apply defaults and canonical forms, depth first, following ``properties`` and ``items``."""
    if isinstance(value, dict) and isinstance(schema.get("properties"), Mapping):
        for key, child in schema["properties"].items():
            if key not in value and "default" in child and not child.get("readOnly"):
                value[key] = copy.deepcopy(child["default"])
        return {k: _normalise(schema["properties"].get(k, {}), v, _join(path, k), ctx) for k, v in value.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [_normalise(schema["items"], v, f"{path}[{n}]", ctx) for n, v in enumerate(value)]
    return _canonical(schema.get("format"), schema, value, path, ctx)


def _canonical(fmt: Any, schema: Mapping[str, Any], value: Any, path: str, ctx: _Context) -> Any:
    try:
        if fmt in MONEY_FORMATS:
            return format_amount(parse_amount(value, currency=ctx.currency, field=path, sign=MONEY_FORMATS[fmt]),
                                 ctx.currency)
        if fmt == IDENTIFIER_FORMAT:
            return canonical_identifier(value, field=path, max_length=int(schema.get("maxLength", 64)),
                                        required=bool(schema.get("minLength", 0)))
    except (InvalidAmount, InvalidIdentifier) as exc:
        ctx.problems.append(str(exc))
        ctx.failed.add(path)
    return value


# ---------------------------------------------------------------- messages

def _path(error: ValidationError) -> str:
    text = ""
    for part in error.absolute_path:
        text = f"{text}[{part}]" if isinstance(part, int) else _join(text, str(part))
    return text


def describe(error: ValidationError) -> str:
    """One line per problem, naming the field; never echoes a (possibly huge) submitted value."""
    path, keyword, expected = _path(error), error.validator, error.validator_value
    if keyword == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return f"{_join(path, missing)}: required"
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        declared = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        extra = sorted(set(error.instance) - set(declared)) if isinstance(error.instance, dict) else []
        return "; ".join(f"{_join(path, k)}: unknown field" for k in extra[:10]) or f"{path}: unknown field"
    where = path or "the form"
    message = _MESSAGES.get(str(keyword), lambda _e: "")(expected)
    return f"{where}: {message or error.message[:200]}"


_MESSAGES: dict[str, Any] = {  # keyword -> message from the schema's value; the submitted value is never echoed
    "type": lambda e: f"must be {_kind(e)}",
    "maxLength": lambda e: f"longer than {e} characters",
    "minLength": lambda e: "must not be empty" if e == 1 else f"shorter than {e} characters",
    "maxItems": lambda e: f"more than {e} items",
    "minItems": lambda e: "needs at least one item" if e == 1 else f"needs at least {e} items",
    "pattern": lambda e: f"does not match the pattern {e}",
    "enum": lambda e: "must be one of " + ", ".join(map(str, e)) if isinstance(e, list) else "",
    "const": lambda e: f"must be {e!r}",
    "oneOf": lambda e: _one_of(e),  # noqa: PLW0108 - _one_of is defined below this table
    "format": lambda e: f"is not a valid {e}",
    "minimum": lambda e: f"less than {e}",
    "maximum": lambda e: f"more than {e}",
}


def _kind(expected: Any) -> str:
    names = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
             "object": "an object", "array": "a list", "null": "null"}
    kinds = expected if isinstance(expected, list) else [expected]
    return " or ".join(names.get(k, str(k)) for k in kinds)


def _one_of(options: Any) -> str:
    consts = [o["const"] for o in options if isinstance(o, dict) and "const" in o] if isinstance(options, list) else []
    return "must be one of " + ", ".join(map(str, consts)) if consts else "matches none of the allowed shapes"
