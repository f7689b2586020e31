"""Issue 12 acceptance 5: ``bpmn deploy`` of an empty folder, of one that fails the check and of one deployed
before; ``bpmn activate`` (and rollback), ``bpmn list`` and ``bpmn diff`` from the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.support import run

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
ROUTE = "shared/approval_route.dmn"


@pytest.fixture
def env(cli_env, monkeypatch, capsys):
    assert run(monkeypatch, capsys, cli_env, "init").code == 0
    return cli_env


def draft(tmp_path: Path, name: str = "draft") -> Path:
    """A copy of the shipped diagrams with the first ``> 20000`` threshold moved to 25000."""
    folder = tmp_path / name
    shutil.copytree(BPMN, folder)
    route = folder / ROUTE
    route.write_text(route.read_text(encoding="utf-8").replace("&gt; 20000", "&gt; 25000", 1), encoding="utf-8")
    return folder


def listed(monkeypatch, capsys, env) -> dict[int, dict]:
    done = run(monkeypatch, capsys, env, "bpmn", "list", "--json")
    assert done.code == 0, done.err
    return {v["id"]: v for v in json.loads(done.out)["versions"]}


def test_an_empty_or_missing_folder_is_refused_and_nothing_is_stored(env, monkeypatch, capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "forms_only").mkdir()
    (tmp_path / "forms_only" / "a.schema.json").write_text("{}", encoding="utf-8")
    for folder in ("empty", "forms_only"):
        done = run(monkeypatch, capsys, env, "bpmn", "deploy", str(tmp_path / folder))
        assert done.code == 1 and "holds no .bpmn or .dmn file: nothing deployed" in done.err, done
    missing = run(monkeypatch, capsys, env, "bpmn", "deploy", str(tmp_path / "missing"))
    assert missing.code == 2 and "is not a folder of diagrams" in missing.err
    assert listed(monkeypatch, capsys, env) == {}


def test_a_folder_that_fails_the_check_is_refused(env, monkeypatch, capsys, tmp_path):
    folder = draft(tmp_path)
    route = folder / ROUTE
    route.write_text(route.read_text(encoding="utf-8").replace("<decisionTable", "<decisionTable broken", 1),
                     encoding="utf-8")
    done = run(monkeypatch, capsys, env, "bpmn", "deploy", str(folder), "--activate")
    assert done.code == 1 and ROUTE in done.err and "nothing deployed" in done.err
    assert listed(monkeypatch, capsys, env) == {}


def test_deploy_activate_roll_back_and_redeploy(env, monkeypatch, capsys, tmp_path):
    first = run(monkeypatch, capsys, env, "bpmn", "deploy", str(BPMN))
    assert first.code == 0 and "deployed model version 1" in first.out and "activated at once" in first.out

    again = run(monkeypatch, capsys, env, "bpmn", "deploy", str(BPMN), "--json")
    assert again.code == 0 and json.loads(again.out)["version_id"] == 1 and json.loads(again.out)["new"] is False
    said = run(monkeypatch, capsys, env, "bpmn", "deploy", str(BPMN))
    assert said.code == 0 and "identical to version 1 (deployed at " in said.out and ", active)" in said.out

    second = run(monkeypatch, capsys, env, "bpmn", "deploy", str(draft(tmp_path)), "--label", "v2")
    assert second.code == 0 and "deployed model version 2" in second.out
    assert "not active" in second.out and "budgetflow bpmn activate 2" in second.out
    versions = listed(monkeypatch, capsys, env)
    assert "travel_application" in versions[1]["active_for"] and versions[2]["active_for"] == []

    activated = run(monkeypatch, capsys, env, "bpmn", "activate", "2", "--by", "E0016", "--json")
    assert activated.code == 0 and json.loads(activated.out)["replaced"] == [1]
    versions = listed(monkeypatch, capsys, env)
    assert versions[1]["active_for"] == [] and "travel_application" in versions[2]["active_for"]
    active = json.loads(run(monkeypatch, capsys, env, "bpmn", "list", "--json").out)["active"]
    assert active["travel_application"] == 2 and active["expense_claim"] == 2
    table = run(monkeypatch, capsys, env, "bpmn", "list")
    assert "travel_application [active]" in table.out.splitlines()[2]

    rollback = run(monkeypatch, capsys, env, "bpmn", "activate", "1")
    assert rollback.code == 0 and "version 1 is now active" in rollback.out and "replaces version(s) 2" in rollback.out
    assert run(monkeypatch, capsys, env, "bpmn", "activate", "1").out.startswith("version 1 is already active")
    assert run(monkeypatch, capsys, env, "bpmn", "activate", "7").code == 2

    redeploy = run(monkeypatch, capsys, env, "bpmn", "deploy", str(draft(tmp_path, "again")), "--activate")
    assert redeploy.code == 0 and "identical to version 2" in redeploy.out and "activated:" in redeploy.out
    assert "travel_application" in listed(monkeypatch, capsys, env)[2]["active_for"]


def test_diff_names_the_changed_rule_against_a_version_or_a_draft(env, monkeypatch, capsys, tmp_path):
    folder = draft(tmp_path)
    assert run(monkeypatch, capsys, env, "bpmn", "deploy", str(BPMN)).code == 0
    shown = run(monkeypatch, capsys, env, "bpmn", "diff", "1", str(folder))
    assert shown.code == 0
    assert shown.out.splitlines()[:2] == [
        f"{ROUTE}:approval_route: decision changed",
        "  ~ rule_1 (rule, 'Entertainment above 20,000: every level plus countersign 招待费超 2 万：全部层级并会签'): "
        "Amount (Decimal) 金额: > 20000 -> > 25000"]
    assert run(monkeypatch, capsys, env, "bpmn", "deploy", str(folder)).code == 0
    as_json = json.loads(run(monkeypatch, capsys, env, "bpmn", "diff", "1", "2", "--json").out)
    [section] = as_json["sections"]
    assert (section["id"], [c["id"] for c in section["changed"]]) == ("approval_route", ["rule_1"])
    assert run(monkeypatch, capsys, env, "bpmn", "diff", "2", "2").out.strip() == "no differences between 2 and 2"
    assert run(monkeypatch, capsys, env, "bpmn", "diff", "1", "9").code == 2
