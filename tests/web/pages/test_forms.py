"""Forms from JSON Schema: which input each construct gets, how a submission becomes JSON again (by the
schema's types, never guessed), and where the engine's problems are shown. The round trip (draw the
real template, submit it as a browser would, parse) holds for any valid data of the shipped forms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from engine.domain.forms import FormSchema
from tests.web.pages.form_harness import render, submitted
from web.forms import attach, build, parse, walk

BPMN = Path(__file__).resolve().parents[3] / "bpmn"
APPLY = json.loads((BPMN / "travel_application" / "forms" / "apply.schema.json").read_text())
CLAIM = json.loads((BPMN / "expense_claim" / "forms" / "claim.schema.json").read_text())
APPROVE = json.loads((BPMN / "shared" / "forms" / "approve.schema.json").read_text())
TYPED = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "nights": {"type": "integer", "title": "Nights"},
        "rate": {"type": "number", "title": "Rate"},
        "code": {"type": "string", "title": "Code", "maxLength": 10},
        "urgent": {"type": "boolean", "title": "Urgent"},
        "note": {"type": ["string", "null"], "title": "Note", "maxLength": 500},
        "tags": {"type": "array", "maxItems": 5, "items": {"type": "string", "enum": ["a", "b", "c"]}},
        "stops": {"type": "array", "maxItems": 5, "items": {"type": "string", "maxLength": 20}},
        "address": {"type": "object", "additionalProperties": False,
                    "properties": {"city": {"type": "string", "maxLength": 40}}},
    },
}


def kinds(fields: list[Any]) -> dict[str, str]:
    return {f.path: f.kind for f in walk(fields)}


def test_each_construct_gets_its_input() -> None:
    claim = kinds(build(CLAIM, {"lines": [{"amount": "12.00"}], "document_no": "EC-1"}))
    assert claim["document_no"] == "readonly" and claim["total"] == "readonly"
    assert claim["subject"] == "select" and claim["currency"] == "radios"  # 8 choices vs 2
    assert claim["lines"] == "table" and claim["lines[0].amount"] == "money" and claim["lines[0].tax"] == "money"
    assert claim["purpose"] == "textarea" and claim["period"] == "text"
    assert claim["lines[0].invoice_code"] == "text"
    apply = kinds(build(APPLY))
    assert apply["start_date"] == "date" and apply["amount"] == "money" and apply["destination"] == "text"
    approve = kinds(build(APPROVE, decisions=["approve", "reject"]))
    assert approve["decision"] == "decision" and approve["comment"] == "textarea"
    assert approve["budget_warning"] == "readonly"
    typed = kinds(build(TYPED))
    assert typed == {"nights": "integer", "rate": "number", "code": "text", "urgent": "checkbox", "note": "textarea",
                     "tags": "choices", "stops": "lines", "address": "group", "address.city": "text"}


def test_decision_buttons_follow_the_engine_list() -> None:
    decision = next(f for f in build(APPROVE, decisions=["approve", "send_back"]) if f.kind == "decision")
    assert [o.value for o in decision.options] == ["approve", "send_back"]


def test_the_money_input_is_text_with_a_decimal_keyboard() -> None:
    html = render(build(APPLY, {"amount": "1280.50"}))
    assert 'name="amount" type="text" inputmode="decimal"' in html and 'value="1280.50"' in html
    assert 'type="date"' in html


def test_filled_rows_then_blank_rows_and_a_more_lines_button() -> None:
    fields = build(CLAIM, {"lines": [{"subject": "HOTEL", "amount": "500.00", "tax": "30.00"}]}, blank_rows=2)
    table = next(f for f in fields if f.path == "lines")
    assert len(table.rows) == 3 and table.rows[0][1].value == "500.00"
    assert all(cell.value is None for cell in table.rows[2])  # blank rows carry no defaults
    html = render(fields)
    assert 'name="_more" value="lines"' in html and 'name="lines[2].amount"' in html
    assert "lines[__i__].amount" in html  # the row template the script copies


def test_nothing_is_guessed_when_parsing() -> None:
    form = MultiDict([("nights", "3"), ("rate", "12.5"), ("code", "1"), ("urgent", "false"), ("urgent", "true"),
                      ("note", ""), ("_arrays", "tags"), ("tags", "a"), ("tags", "c"), ("_arrays", "stops"),
                      ("stops", "Beijing\r\n\r\n Shanghai "), ("address.city", "Xi'an")])
    assert parse(TYPED, form).data == {"nights": 3, "rate": 12.5, "code": "1", "urgent": True, "note": None,
                                       "tags": ["a", "c"], "stops": ["Beijing", "Shanghai"],
                                       "address": {"city": "Xi'an"}}
    odd = parse(TYPED, MultiDict([("nights", "three"), ("rate", "1e3"), ("urgent", "false")])).data
    assert odd == {"nights": "three", "rate": "1e3", "urgent": False}  # passed on as typed: the engine refuses


def test_left_out_and_empty_fields() -> None:
    data = parse(APPLY, MultiDict([("purpose", ""), ("destination", ""), ("amount", ""), ("start_date", ""),
                                   ("document_no", "TA-X"), ("subject", "")])).data
    assert data == {"destination": "", "purpose": ""}  # text may be cleared; a choice, amount or date is not given
    assert "lines" not in parse(CLAIM, MultiDict()).data  # a form without the table says nothing about it
    assert parse(CLAIM, MultiDict([("_arrays", "lines")])).data["lines"] == []  # every row removed


def test_rows_are_renumbered_and_blank_rows_dropped() -> None:
    form = MultiDict([("_arrays", "lines"),
                      ("lines[0].subject", "HOTEL"), ("lines[0].amount", "10.00"),
                      ("lines[3].subject", ""), ("lines[3].amount", ""), ("lines[3].tax", ""),
                      ("lines[7].subject", "MEALS"), ("lines[7].amount", "2.50"), ("lines[7].invoice_number", "N1")])
    assert parse(CLAIM, form).data["lines"] == [{"subject": "HOTEL", "amount": "10.00"},
                                                {"subject": "MEALS", "amount": "2.50", "invoice_number": "N1"}]


def test_read_only_fields_are_never_taken_from_a_form() -> None:
    assert parse(CLAIM, MultiDict([("total", "1"), ("reservation_id", "5"), ("document_no", "X")])).data == {}


def test_uploads_are_listed_for_the_caller_with_the_kept_ids() -> None:
    schema = {"type": "object", "properties": {"receipts": {"type": "array", "maxItems": 5, "items": {
        "type": "string", "format": "attachment", "maxLength": 40}}}}

    class Upload:
        def __init__(self, filename: str) -> None:
            self.filename = filename

    files = MultiDict([("receipts.upload", Upload("r.pdf")), ("receipts.upload", Upload(""))])
    parsed = parse(schema, MultiDict([("_arrays", "receipts"), ("receipts", "att-1")]), files)
    assert parsed.data == {"receipts": ["att-1"]}
    assert [(path, f.filename) for path, f in parsed.uploads] == [("receipts", "r.pdf")]


def test_problems_land_on_their_fields_and_the_rest_in_the_summary() -> None:
    fields = build(CLAIM, {"lines": [{"amount": "1"}, {"amount": "-2"}]})
    placed = attach(fields, ["lines[1].amount: must be more than zero", "lines: needs at least one item",
                             "lines[5].tax: required", "purpose: must not be empty", "the form was refused: too big"])
    by_path = {f.path: f for f in walk(fields)}
    assert by_path["lines[1].amount"].problems == ["must be more than zero"]
    assert by_path["purpose"].problems == ["must not be empty"]
    assert by_path["lines"].problems == ["needs at least one item", "required"]  # a row not on the page: its table
    assert [p.anchor for p in placed] == ["f-lines-1-amount", "f-lines", "f-lines", "f-purpose", None]
    html = render(fields)
    assert 'id="f-lines-1-amount-problem"' in html and 'aria-invalid="true"' in html


def writable(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without its read-only properties (what a person sends), formats the checker cannot draw."""
    props = {k: v for k, v in schema["properties"].items() if not v.get("readOnly")}
    return {**schema, "properties": props, "required": [k for k in schema.get("required", []) if k in props]}


FORMATS = {"money": st.from_regex(r"[1-9][0-9]{0,5}\.[0-9]{2}", fullmatch=True),
           "money-or-zero": st.from_regex(r"[0-9]{1,5}\.[0-9]{2}", fullmatch=True),
           "identifier": st.from_regex(r"[0-9a-z]{1,10}", fullmatch=True),
           "date": st.dates().map(lambda d: d.isoformat())}
printable = st.characters(min_codepoint=32, blacklist_categories=("Cs", "Cc", "Zl", "Zp"))


def values_for(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Valid data for the constructs the shipped forms use (hypothesis-jsonschema lags Hypothesis)."""
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries({k: values_for(v) for k, v in props.items() if k in required},
                                     optional={k: values_for(v) for k, v in props.items() if k not in required})
    if kind == "array":
        return st.lists(values_for(schema["items"]), min_size=schema.get("minItems", 0),
                        max_size=min(schema.get("maxItems", 3), 3))
    choices = [o["const"] for o in schema.get("oneOf", [])] or schema.get("enum")
    if choices:
        return st.sampled_from(choices)
    if schema.get("format") in FORMATS:
        return FORMATS[schema["format"]]
    if "pattern" in schema:
        return st.from_regex(schema["pattern"].strip("^$"), fullmatch=True)
    return st.text(alphabet=printable, min_size=schema.get("minLength", 0),
                   max_size=min(schema.get("maxLength", 40), 40))


def round_trip(schema: dict[str, Any], data: dict[str, Any], button: str | None = None) -> dict[str, Any]:
    fields = build(schema, data, decisions=None, blank_rows=1)
    return parse(schema, submitted(render(fields), button=button)).data


def comparable(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """What a form carries back: every text input is sent (empty when untouched); a choice, date or amount
    left empty is not given (the engine then says "required" or applies the default)."""
    out = {}
    for key, prop in schema["properties"].items():
        special = bool(set(prop) & {"enum", "oneOf"}) or prop.get("format") in ("date", "money", "money-or-zero")
        if key in data and not (data[key] == "" and special):
            out[key] = data[key]
        elif key not in data and prop.get("type") == "string" and not special:
            out[key] = ""
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
@pytest.mark.parametrize("schema", [APPLY, CLAIM], ids=["apply", "claim"])
def test_any_valid_submission_survives_the_form(schema: dict[str, Any], data: st.DataObject) -> None:
    shape = writable(schema)
    value = data.draw(values_for(shape))
    assert round_trip(schema, value) == comparable(shape, value)
    FormSchema(schema, name="x").clean(round_trip(schema, value), current={}, protected=frozenset())


@settings(max_examples=30, deadline=None)
@given(decision=st.sampled_from(["approve", "reject", "send_back"]),
       comment=st.text(alphabet=printable, min_size=1, max_size=50))
def test_the_pressed_button_is_the_decision(decision: str, comment: str) -> None:
    sent = round_trip(APPROVE, {"comment": comment}, button=decision)
    assert sent == {"decision": decision, "comment": comment}
