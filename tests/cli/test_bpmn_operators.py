"""``budgetflow bpmn operators``: every operator a diagram may name, as the check holds diagrams to it."""

from __future__ import annotations

import json

from connectors.registry import OPERATORS
from tests.cli.support import run


def test_every_operator_is_listed_with_its_parameters_result_and_errors(monkeypatch, capsys):
    done = run(monkeypatch, capsys, {}, "bpmn", "operators", "--json")
    assert done.code == 0, done.err
    listed = {o["name"]: o for o in json.loads(done.out)["operators"]}
    assert sorted(listed) == sorted(OPERATORS)
    for name, spec in OPERATORS.items():
        shown = listed[name]
        assert [p["name"] for p in shown["parameters"] if p["required"]] == list(spec.params)
        assert [p["name"] for p in shown["parameters"] if not p["required"]] == list(spec.optional)
        assert all(p["description"] for p in shown["parameters"]), f"{name}: a parameter without a description"
        assert shown["description"] and shown["result_variable"] == {"required": True, "holds": spec.result}
        assert shown["result_variable"]["holds"], f"{name}: say what its resultVariable holds"
        assert shown["error_codes"] == list(spec.errors)


def test_the_text_listing_names_each_operator_and_speaks_chinese(monkeypatch, capsys):
    done = run(monkeypatch, capsys, {}, "bpmn", "operators")
    assert done.code == 0 and all(f"{name}  " in done.out for name in OPERATORS), done.out
    assert "resultVariable holds: reservation_id" in done.out and "BUDGET_INSUFFICIENT" in done.out
    chinese = run(monkeypatch, capsys, {}, "--lang", "zh", "bpmn", "operators")
    assert chinese.code == 0 and "必需" in chinese.out and "错误码" in chinese.out
