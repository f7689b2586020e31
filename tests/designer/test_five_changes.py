"""Issue 12, acceptance 1: five everyday changes, made without Python, each checked, deployed, activated, shown by a
scenario file and by ``simulate``, then rolled back by activating the old version.

Everything goes through the ``budgetflow`` command a designer types, against the test database: the company runs
the shipped diagrams (version 1, active), the designer changes copies of bpmn/ and the data dictionary
(tests/designer/changes.py does what the modeller and an editor would), and the commands tell what changed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from engine.seed import demo_folder
from tests.cli.support import Run, run
from tests.designer.changes import CHANGES, without_lane

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
FILL = ("      - task: fill_application\n        form: {{subject: {subject}, purpose: \"Visit 拜访\", "
        "amount: \"{amount}\", currency: CNY, period: \"2026\"{extra}}}\n")
APPROVE = "      - {{task: {task}, by: any candidate, form: {{decision: approve, comment: \"ok 同意\"}}}}\n"


def scenario(name: str, steps: str, expect: str, subject: str = "TRAVEL", amount: str = "3000.00",
             extra: str = "") -> str:
    return (f"scenarios:\n  - name: {name}\n    process: travel_application\n    applicant: E0017\n"
            f"    start: {{period: \"2026\", currency: CNY}}\n    steps:\n"
            + FILL.format(subject=subject, amount=amount, extra=extra) + steps + f"    expect:\n{expect}")


def approve(*tasks: str) -> str:
    return "".join(APPROVE.format(task=t) for t in tasks)


# Per change: the scenario that shows it, and what simulate must show (compared with the shipped diagrams).
SCENARIOS = {
    "budget_line_owner_lane": scenario(
        "the budget line's owner signs off; who approved as manager is not asked again",
        approve("approve_by_manager", "approve_by_budget_line_owner"),
        "      route: [fill_application, approve_by_manager, approve_by_budget_line_owner]\n"
        "      approvers: {approve_by_manager: [E0005], approve_by_budget_line_owner: [E0002]}\n"
        "      outcome: approved\n"),
    "threshold_moved": scenario(
        "6,000 now needs the manager only", approve("approve_by_manager"),
        "      route: [fill_application, approve_by_manager]\n      outcome: approved\n", amount="6000.00"),
    "reminder_interval": scenario(
        "a manager who waits 5 hours is reminded", "      - advance: PT5H\n" + approve("approve_by_manager"),
        "      route: [fill_application, approve_by_manager]\n"
        "      notifications: [approval_reminder, travel_application_approved]\n"),
    "urgent_field": scenario(
        "an urgent small trip goes to the department head", approve("approve_by_manager", "approve_by_department_head"),
        "      route: [fill_application, approve_by_manager, approve_by_department_head]\n      outcome: approved\n",
        amount="800.00", extra=", urgent: true"),
    "conference_subject": scenario(
        "a conference needs the department head whatever the amount",
        approve("approve_by_manager", "approve_by_department_head"),
        "      route: [fill_application, approve_by_manager, approve_by_department_head]\n      outcome: approved\n",
        subject="CONFERENCE", amount="800.00"),
}
POPULATIONS = {
    "reminder_interval": "lanes:\n  default:\n    response_hours: {lognormal: {median: 10, sigma: 0.5}, max: 40}\n",
    "urgent_field": "fields: {urgent: {true: 0.5, false: 0.5}}\n",
    "conference_subject": "subjects: {CONFERENCE: 1, TRAVEL: 1}\nbudgeted_subjects_only: false\n",
}


class Designer:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str],
                 tmp_path: Path) -> None:
        self.monkeypatch, self.capsys, self.env, self.tmp = monkeypatch, capsys, env, tmp_path

    def cli(self, *args: str, code: int = 0) -> Run:
        done = run(self.monkeypatch, self.capsys, self.env, *map(str, args))
        assert done.code == code, f"budgetflow {' '.join(map(str, args))}: exit {done.code}\n{done.out}\n{done.err}"
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json").out)

    def active(self) -> dict[str, int]:
        return self.json("bpmn", "list")["active"]

    def simulate(self, bpmn: Path, dictionary: Path, change: str) -> dict[str, Any]:
        args = ["simulate", "--bpmn", bpmn, "--dictionary", dictionary, "--claims", "16", "--seed", "7"]
        if change in POPULATIONS:
            population = self.tmp / f"{change}.population.yaml"
            population.write_text(POPULATIONS[change], encoding="utf-8")
            args += ["--population", population]
        return self.json(*args)["this_run"]


def step_count(report: dict[str, Any], task: str) -> int:
    return int(report["wait_per_step_working_hours"].get(task, {}).get("count", 0))


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_is_checked_deployed_activated_shown_and_rolled_back(change, cli_env, monkeypatch, capsys, tmp_path):
    designer = Designer(monkeypatch, capsys, cli_env, tmp_path)
    bpmn, dictionary = tmp_path / "bpmn", tmp_path / "dictionary"
    shutil.copytree(BPMN, bpmn, ignore=shutil.ignore_patterns("scenarios"))
    shutil.copytree(demo_folder(), dictionary)
    without_lane(dictionary, "budget_line_owner")  # the company before the change
    designer.cli("import-master-data", dictionary)
    original = designer.json("bpmn", "deploy", bpmn)["version_id"]
    assert designer.active()["travel_application"] == original  # the first version is active at once
    baseline = designer.simulate(bpmn, dictionary, change)
    (bpmn / f"{change}.scenario.yaml").write_text(SCENARIOS[change], encoding="utf-8")
    designer.cli("bpmn", "test", bpmn, "--dictionary", dictionary, code=1)  # the control: it fails before the change

    CHANGES[change](bpmn, dictionary)  # the designer's edit: diagrams, forms, dictionary; no Python
    if change == "budget_line_owner_lane":  # the lane is unknown until the dictionary that declares it is used
        refused = designer.cli("bpmn", "check", bpmn, code=1)
        assert "travel_application/travel_application.bpmn:lane_budget_line_owner: lane 'budget_line_owner'" \
            in refused.out
        designer.cli("bpmn", "check", bpmn, "--dictionary", dictionary)
    if change in ("budget_line_owner_lane", "conference_subject"):
        designer.cli("import-master-data", dictionary)
    assert designer.cli("bpmn", "check", bpmn).out.endswith(f"bpmn check: OK in {bpmn}\n")

    deployed = designer.json("bpmn", "deploy", bpmn)
    assert deployed["new"] and deployed["version_id"] != original
    assert designer.active()["travel_application"] == original  # deployed is not activated
    designer.cli("bpmn", "activate", deployed["version_id"])
    assert designer.active()["travel_application"] == deployed["version_id"]

    shown = designer.cli("bpmn", "test", bpmn, "--dictionary", dictionary)
    assert shown.out.startswith("PASS ") and "1 passed, 0 failed" in shown.out

    report = designer.simulate(bpmn, dictionary, change)
    assert report["outcomes"] and report["cycle_time"]["request"]["working_hours"]["median"] > 0
    shows_in_simulation(change, baseline, report)

    designer.cli("bpmn", "activate", original)  # the rollback
    assert designer.active()["travel_application"] == original


def shows_in_simulation(change: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    """What ``simulate`` shows of each change, against the same population on the shipped diagrams."""
    head = "approve_by_department_head"
    if change == "budget_line_owner_lane":
        assert step_count(before, "approve_by_budget_line_owner") == 0
        assert step_count(after, "approve_by_budget_line_owner") > 0
    elif change == "threshold_moved":
        assert step_count(after, head) < step_count(before, head)
    elif change == "reminder_interval":
        assert after["reminders_sent"] > before["reminders_sent"]
    elif change == "urgent_field":
        assert step_count(after, head) > step_count(before, head)
    elif change == "conference_subject":
        assert step_count(after, head) >= step_count(before, head)
