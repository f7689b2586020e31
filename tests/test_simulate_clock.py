"""``simulate`` on a virtual clock with a population file (issue 12, acceptance 4).

A designer changes the reminder interval in a copy of bpmn/ and sees it in the number of
reminders sent; the cycle figures come out in working hours and calendar days; the version
printed is the one every instance ran on; a bad population file or a draft that fails the
check is refused, naming file and field, before anything is written.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, select

from engine.config import SHIPPED_BPMN
from engine.persistence.workflow_tables import ProcessInstance
from tests.test_simulate import company_database, snapshot

CHAIN = Path("shared/approval_chain.bpmn")
SLOW_APPROVERS = """\
# approvers who take two to three working days: reminders go out before they answer
lanes:
  manager: {response_hours: {uniform: [14, 24]}}
  department_head: {response_hours: {uniform: [14, 24]}}
  finance_director: {response_hours: {uniform: [14, 24]}}
  countersign: {response_hours: {uniform: [14, 24]}}
"""


def simulate(env: dict[str, str], *args: str, claims: int = 3) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", "simulate", "--claims", str(claims), *args], env=env,
                          capture_output=True, text=True, check=False, timeout=600)


def bpmn_copy(tmp_path: Path, name: str, reminder_cycle: str | None = None) -> Path:
    folder = tmp_path / name
    shutil.copytree(SHIPPED_BPMN, folder)
    if reminder_cycle is not None:
        chain = folder / CHAIN
        text = chain.read_text(encoding="utf-8")
        assert "reminder_cycle = 'R3/PT24H'" in text
        chain.write_text(text.replace("reminder_cycle = 'R3/PT24H'", f"reminder_cycle = '{reminder_cycle}'"),
                         encoding="utf-8")
    return folder


def test_a_shorter_reminder_interval_sends_more_reminders_and_cycles_are_in_working_time(db_url, cli_env, tmp_path):
    population = tmp_path / "slow.yaml"
    population.write_text(SLOW_APPROVERS, encoding="utf-8")
    runs = {}
    for name, cycle in (("daily", None), ("every_4h", "R3/PT4H")):
        kept = tmp_path / f"kept-{name}"
        done = simulate(cli_env, "--population", str(population), "--bpmn", str(bpmn_copy(tmp_path, name, cycle)),
                        "--keep", str(kept), "--json")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        runs[name] = json.loads(done.stdout)
        versions = _instance_versions(kept)
        assert versions == {runs[name]["model_version"]["id"]}  # the version it printed is the one that ran

    daily, often = runs["daily"]["this_run"], runs["every_4h"]["this_run"]
    assert often["reminders_sent"] > daily["reminders_sent"] > 0
    for run in (daily, often):
        request = run["cycle_time"]["request"]
        assert request["count"] >= 1
        hours, days = request["working_hours"], request["calendar_days"]
        assert 0 < hours["median"] <= hours["p90"]
        assert 0 < days["median"] <= days["p90"]
        assert hours["median"] <= days["median"] * 24  # working hours are a part of the calendar's
        waits = run["wait_per_step_working_hours"]
        assert waits["approve_by_manager"]["median"] >= 14 or run["escalations"]["total"] > 0
        assert run["virtual_clock"]["start"].startswith("2026-03-02T09:00+08:00")
    assert runs["daily"]["population"] == str(population)
    assert runs["daily"]["database_totals"]["budget_use"]["total"]["share"] > 0


def _instance_versions(kept: Path) -> set[int]:
    engine = create_engine(f"sqlite:///{kept / 'budgetflow.db'}")
    try:
        with engine.connect() as conn:
            return set(conn.execute(select(ProcessInstance.model_version_id)).scalars())
    finally:
        engine.dispose()


def test_a_population_file_error_names_file_and_field_and_changes_nothing(container, cli_env, tmp_path):
    company_database(container, tmp_path)
    before = snapshot(container)
    population = tmp_path / "bad.yaml"
    population.write_text("lanes:\n  manager:\n    decisions: {approve: -1}\namounts: {uniform: [9000, 100]}\n",
                          encoding="utf-8")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    for extra in ([], ["--into-configured-database"]):
        done = simulate({**cli_env, "TMPDIR": str(scratch)}, "--population", str(population), *extra)
        assert done.returncode == 1, done.stdout + done.stderr
        assert done.stdout == ""
        assert f"{population}: lanes.manager.decisions.approve: -1 is less than the minimum of 0" in done.stderr
        assert f"{population}: amounts.uniform: the low end is above the high end" in done.stderr
        assert "Traceback" not in done.stderr
        assert snapshot(container) == before
        assert list(scratch.iterdir()) == []  # not even a throwaway database was made


def test_a_json_population_and_a_syntax_error_are_read_too(db_url, cli_env, tmp_path):
    population = tmp_path / "broken.json"
    population.write_text('{"arrivals": {"per_working_day": 0}', encoding="utf-8")
    done = simulate(cli_env, "--population", str(population))
    assert done.returncode == 1
    assert f"{population}: line 1, column" in done.stderr and "Traceback" not in done.stderr
    population.write_text('{"arrivals": {"per_working_day": 0}}', encoding="utf-8")
    done = simulate(cli_env, "--population", str(population))
    assert done.returncode == 1
    assert f"{population}: arrivals.per_working_day: 0 is less than or equal to the minimum of 0" in done.stderr


def test_a_draft_that_fails_the_check_or_holds_nothing_is_not_simulated(container, cli_env, tmp_path):
    company_database(container, tmp_path)
    before = snapshot(container)
    draft = bpmn_copy(tmp_path, "draft")
    chain = draft / CHAIN
    chain.write_text(chain.read_text(encoding="utf-8").replace("reminder_cycle = 'R3/PT24H'",
                                                               "reminder_cycle = 'R3/PT24H"), encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder, expected in ((draft, "shared/approval_chain.bpmn:set_approval_policy"), (empty, "no .bpmn")):
        done = simulate(cli_env, "--bpmn", str(folder), "--into-configured-database")
        assert done.returncode == 1, done.stdout + done.stderr
        assert expected in done.stderr and "nothing was simulated" in done.stderr
        assert snapshot(container) == before


def test_a_new_form_field_of_the_population_reaches_the_form_that_has_it(db_url, cli_env, tmp_path):
    draft = bpmn_copy(tmp_path, "draft")
    form = draft / "travel_application/forms/apply.schema.json"
    schema = json.loads(form.read_text(encoding="utf-8"))
    schema["properties"]["urgent"] = {"type": "boolean", "title": "Urgent 加急"}
    form.write_text(json.dumps(schema, ensure_ascii=False, indent=2), encoding="utf-8")
    population = tmp_path / "urgent.yaml"
    population.write_text("fields: {urgent: {true: 1, false: 0}}\nrequests: {travel_application: 1}\n",
                          encoding="utf-8")
    kept = tmp_path / "kept"
    done = simulate(cli_env, "--bpmn", str(draft), "--population", str(population), "--keep", str(kept), "--json",
                    claims=2)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout)["this_run"]
    assert report["refused_count"] == 0  # the claim form has no such field and was not sent one
    engine = create_engine(f"sqlite:///{kept / 'budgetflow.db'}")
    try:
        with engine.connect() as conn:
            states = dict(conn.execute(select(ProcessInstance.business_key, ProcessInstance.state)).all())
    finally:
        engine.dispose()
    applications = [s for key, s in states.items() if key.startswith("TA-")]
    assert applications and all('"urgent": true' in s for s in applications)
    assert not any('"urgent"' in s for key, s in states.items() if key.startswith("EC-"))
