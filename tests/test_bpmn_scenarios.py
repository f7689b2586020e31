"""``budgetflow bpmn test``: scenario files checked with clear messages, run on any folder, first difference named."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from engine.domain.scenario import ScenarioInvalid, parse_duration, parse_file
from tests.cli.support import run

BPMN = Path(__file__).resolve().parents[1] / "bpmn"
FILL = ("    steps:\n      - task: fill_application\n        form: {subject: TRAVEL, purpose: \"Visit 拜访\", "
        "amount: \"AMOUNT\", currency: CNY, period: \"2026\"}\n")


def scenario(name: str, amount: str, expect: str, more_steps: str = "") -> str:
    return (f"  - name: {name}\n    process: travel_application\n    applicant: E0017\n"
            f"    start: {{period: \"2026\", currency: CNY}}\n" + FILL.replace("AMOUNT", amount) + more_steps
            + f"    expect:\n{expect}")


@pytest.fixture
def draft(tmp_path: Path) -> Path:
    """A copy of the diagrams without their scenario files."""
    folder = tmp_path / "draft"
    shutil.copytree(BPMN, folder, ignore=shutil.ignore_patterns("scenarios"))
    return folder


def test_a_failing_scenario_names_where_what_was_expected_and_what_came(draft, cli_env, monkeypatch, capsys):
    (draft / "mine.scenario.yaml").write_text("scenarios:\n" + "".join([
        scenario("passes", "1200.00", "      route: [fill_application, approve_by_manager]\n"),
        scenario("wrong route", "8000.00", "      route: [fill_application, approve_by_manager]\n",
                 "      - {task: approve_by_manager, by: any candidate, form: {decision: approve, comment: x}}\n"),
        scenario("task never opens", "1200.00", "      outcome: approved\n",
                 "      - {task: approve_by_department_head, by: E0002, form: {decision: approve, comment: x}}\n"),
        scenario("not a candidate", "1200.00", "      outcome: approved\n",
                 "      - {task: approve_by_manager, by: E0006, form: {decision: approve, comment: x}}\n"),
        scenario("wrong ledger", "1200.00", "      ledger: {line: 2026/ORG:SALES-N/TRAVEL, reserved: \"1000\"}\n"),
    ]), encoding="utf-8")
    done = run(monkeypatch, capsys, cli_env, "bpmn", "test", str(draft))
    assert done.code == 1
    lines = done.out.splitlines()
    assert lines == [
        "PASS mine.scenario.yaml:passes",
        "FAIL mine.scenario.yaml:wrong route: route, user task 3: expected the end, got approve_by_department_head",
        "FAIL mine.scenario.yaml:task never opens: step 2 (task approve_by_department_head): expected it to be "
        "taken, got not open (open: approve_by_manager)",
        "FAIL mine.scenario.yaml:not a candidate: step 2 (task approve_by_manager): expected it to be taken, got "
        "E0006 is not a candidate (candidates: E0005)",
        "FAIL mine.scenario.yaml:wrong ledger: ledger reserved: expected 1000.00, got 1200.00",
        f"bpmn test: 1 passed, 4 failed in {draft}",
    ]


def test_json_reports_each_scenario_with_what_it_observed(draft, cli_env, monkeypatch, capsys):
    (draft / "one.scenario.json").write_text(json.dumps({
        "name": "json file", "process": "travel_application", "applicant": "E0017",
        "start": {"period": "2026", "currency": "CNY"},
        "steps": [{"task": "fill_application", "form": {"subject": "TRAVEL", "purpose": "Visit 拜访",
                                                        "amount": "300.00", "currency": "CNY", "period": "2026"}},
                  {"message": "withdraw", "payload": {"reason": "no trip"}}],
        "expect": {"outcome": "withdrawn", "ledger": {"released": "300.00"}}}), encoding="utf-8")
    done = run(monkeypatch, capsys, cli_env, "bpmn", "test", str(draft), "--json")
    report = json.loads(done.out)
    assert done.code == 0 and report["ok"] and report["passed"] == 1
    [one] = report["scenarios"]
    assert one["observed"]["route"] == ["fill_application", "approve_by_manager"]
    assert one["observed"]["ledger"] == {"line": "2026/ORG:SALES-N/TRAVEL", "reserved": "0.00", "consumed": "0.00",
                                         "released": "300.00"}


def test_invalid_files_are_listed_as_file_scenario_message_and_nothing_runs(draft, cli_env, monkeypatch, capsys):
    (draft / "a.scenario.yaml").write_text("scenarios: [\n", encoding="utf-8")
    (draft / "b.scenario.yaml").write_text("scenarios:\n" + scenario("no expect", "1.00", "").replace(
        "    expect:\n", "") + scenario("bad", "1.00", "      outcome: approved\n", "      - advance: P3X\n")
        , encoding="utf-8")
    (draft / "c.scenario.yaml").write_text("name: claim\nprocess: expense_claim\napplicant: E0017\napplication_of: x\n"
                                           "steps: []\nexpect: {outcome: posted}\n", encoding="utf-8")
    done = run(monkeypatch, capsys, cli_env, "bpmn", "test", str(draft))
    assert done.code == 1 and done.out == ""
    problems = done.err.splitlines()
    assert problems[0].startswith("a.scenario.yaml:-: not readable as YAML: ")
    assert problems[1:] == [
        "b.scenario.yaml:no expect: 'expect' is a required property",
        "b.scenario.yaml:bad: step 2: advance 'P3X' is not an ISO 8601 duration such as PT80H or P3D",
        "c.scenario.yaml:claim: 'x' is no earlier scenario of this run",
    ]


def test_a_folder_without_scenarios_or_failing_the_check_is_refused(draft, tmp_path, cli_env, monkeypatch, capsys):
    done = run(monkeypatch, capsys, cli_env, "bpmn", "test", str(draft))
    assert done.code == 1 and "no scenario files" in done.err
    (draft / "shared" / "approval_route.dmn").write_text("<not xml", encoding="utf-8")
    (draft / "x.scenario.yaml").write_text(scenario("x", "1.00", "      outcome: approved\n")
                                           .replace("  - name", "name").replace("\n    ", "\n"), encoding="utf-8")
    done = run(monkeypatch, capsys, cli_env, "bpmn", "test", str(draft))
    assert done.code == 1 and "shared/approval_route.dmn" in done.err and "fails bpmn check" in done.err


def test_parse_file_names_the_file_and_scenario():
    with pytest.raises(ScenarioInvalid) as invalid:
        parse_file("f.yaml", {"scenarios": [{"name": "s", "process": "p", "applicant": "E1", "steps": [{"x": 1}],
                                             "expect": {}}]})
    assert all(p.startswith("f.yaml:s: ") for p in invalid.value.problems) and len(invalid.value.problems) == 2
    with pytest.raises(ScenarioInvalid) as twice:
        one = {"name": "s", "process": "p", "applicant": "E1", "steps": [], "expect": {"outcome": "x"}}
        parse_file("f.yaml", {"scenarios": [one, one]})
    assert twice.value.problems == ["f.yaml:s: a second scenario of this name (names are unique in a file)"]


@pytest.mark.parametrize(("text", "expected"), [
    ("PT80H", timedelta(hours=80)), ("P3D", timedelta(days=3)), ("P1W", timedelta(weeks=1)),
    ("P1DT2H30M", timedelta(days=1, hours=2, minutes=30)), ("PT", None), ("P", None), ("P1Y", None),
    ("80H", None), ("P1DT", None)])
def test_durations(text, expected):
    assert parse_duration(text) == expected
