"""``budgetflow bpmn lanes``: the built-in lanes before a dictionary with lanes.csv is imported (and it says so),
then the dictionary's, each with its rules, fallback and description."""

from __future__ import annotations

import json

from tests.cli.support import run


def test_the_built_ins_then_the_dictionarys_lanes(cli_env, monkeypatch, capsys):
    assert run(monkeypatch, capsys, cli_env, "init").code == 0
    before = run(monkeypatch, capsys, cli_env, "bpmn", "lanes")
    assert before.code == 0, before.err
    assert before.out.splitlines()[0] == "built-in lanes (the imported data dictionary has no lanes.csv):"
    assert "  department_head: 事业部负责人 the head of the applicant's division" in before.out
    assert "    1. unit_head 2; if nobody: next\n    2. unit_head 1; if nobody: nobody" in before.out
    assert "budget_line_owner" not in before.out and "skips whoever" not in before.out

    assert run(monkeypatch, capsys, cli_env, "seed", "demo").code == 0
    after = run(monkeypatch, capsys, cli_env, "bpmn", "lanes", "--json")
    assert after.code == 0, after.err
    body = json.loads(after.out)
    owner = next(lane for lane in body["lanes"] if lane["name"] == "budget_line_owner")
    assert body["source"] == "dictionary" and owner == {
        "name": "budget_line_owner", "description": "预算负责人 the owner of the budget line charged",
        "skip_prior_approvers": True, "source": "dictionary",
        "rules": [{"rule": "budget_line_owner", "parameter": None, "fallback": "escalate"}]}
    assert set(body["rules"]) >= {"manager_up", "unit_head", "role", "role_in_chain", "budget_line_owner",
                                  "cost_center_owner", "employees", "variable", "countersign", "system"}
