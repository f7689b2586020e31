"""The simulation's parts without a database: business hours, the population file, draws, forms, figures."""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.config import SHIPPED_BPMN
from engine.simulation.calendar import calendar_of
from engine.simulation.diagram import escalation_ids
from engine.simulation.draws import draw
from engine.simulation.people import FormFields, decision, only
from engine.simulation.population import PopulationInvalid, load_population
from engine.simulation.report import percentile, summary
from engine.workflow.bundle import read_folder

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAL = calendar_of({})  # Mon-Fri 09:00-18:00 Asia/Shanghai


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_working_hours_skip_nights_and_weekends():
    friday_afternoon = at("2026-03-06T16:00")
    assert CAL.add_working_hours(friday_afternoon, 3) == at("2026-03-09T10:00")  # Monday
    assert CAL.working_hours_between(friday_afternoon, at("2026-03-09T10:00")) == pytest.approx(3)
    assert CAL.add_working_hours(at("2026-03-07T12:00"), 0) == at("2026-03-09T09:00")  # a Saturday waits
    assert CAL.working_hours_between(at("2026-03-02T09:00"), at("2026-03-09T09:00")) == pytest.approx(45)
    assert CAL.working_hours_between(at("2026-03-03T20:00"), at("2026-03-04T08:00")) == 0


def test_holidays_and_other_hours_count():
    cal = calendar_of({"hours": ["08:30", "17:30"], "working_days": ["mon", "tue", "wed", "thu", "fri", "sat"],
                       "holidays": ["2026-03-09"]})
    assert cal.add_working_hours(at("2026-03-07T17:00"), 1) == at("2026-03-10T09:00")  # Sat, Mon off, Tue


def test_the_default_population_is_valid_and_a_file_names_only_what_it_changes(tmp_path: Path):
    default = load_population(None)
    assert default.start == at("2026-03-02T09:00")
    assert default.behaviour("manager", "approve_by_manager")["decisions"]["reject"] == 0.04
    changed = tmp_path / "p.json"
    changed.write_text(json.dumps({"lanes": {"manager": {"response_hours": 30}},
                                   "tasks": {"approve_overrun": {"decisions": {"reject": 1}}}}), encoding="utf-8")
    mine = load_population(changed)
    assert mine.behaviour("manager", "approve_by_manager")["response_hours"] == 30
    assert mine.behaviour("manager", "approve_by_manager")["decisions"]["approve"] == 0.96  # from default
    assert mine.behaviour("applicant", "fill_claim") == default.behaviour("applicant", "fill_claim")
    assert mine.behaviour("finance", "approve_overrun")["decisions"] == {"reject": 1}
    assert mine.spec["amounts"] == default.spec["amounts"]


def test_every_problem_is_named_by_file_and_field(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("calendar: {timezone: Mars/Olympus, working_days: [mon, funday]}\n"
                   "amounts: {choices: [1, 2], weights: [1]}\n"
                   "requests: {travel_application: 0}\nsurprise: 1\n", encoding="utf-8")
    with pytest.raises(PopulationInvalid) as caught:
        load_population(bad)
    text = "\n".join(caught.value.problems)
    assert f"{bad}: calendar.timezone: 'Mars/Olympus' is not a 'timezone'" in text
    assert f"{bad}: calendar.working_days[1]: 'funday' is not one of" in text
    assert f"{bad}: (top level): Additional properties are not allowed ('surprise' was unexpected)" in text
    bad.write_text("amounts: {choices: [1, 2], weights: [1]}\nrequests: {travel_application: 0}\n", encoding="utf-8")
    with pytest.raises(PopulationInvalid) as caught:
        load_population(bad)
    assert caught.value.problems == [f"{bad}: amounts.weights: 1 weights for 2 choices",
                                     f"{bad}: requests: every share is 0"]
    bad.write_text("lanes: [\n", encoding="utf-8")
    with pytest.raises(PopulationInvalid) as caught:
        load_population(bad)
    assert caught.value.problems[0].startswith(f"{bad}: line 2, column 1: ")


def test_a_form_field_shorthand_keeps_its_values_type(tmp_path: Path):
    spec = tmp_path / "fields.yaml"
    spec.write_text("fields: {urgent: {true: 0.2, false: 0.8}, channel: {choices: [web, mail]}}\n", encoding="utf-8")
    fields = load_population(spec).spec["fields"]
    assert fields["urgent"] == {"choices": [True, False], "weights": [0.2, 0.8]}
    drawn = {draw(fields["urgent"], random.Random(n)) for n in range(40)}  # noqa: S311
    assert drawn == {True, False}


def test_draws_clip_and_jitter():
    rng = random.Random(1)  # noqa: S311
    values = [draw({"lognormal": {"median": 5, "sigma": 2}, "max": 8, "min": 1}, rng) for _ in range(200)]
    assert min(values) >= 1 and max(values) <= 8
    assert all(100 <= draw({"choices": [100], "jitter": 9}, rng) <= 109 for _ in range(50))
    assert all(2 <= draw({"uniform": [2, 3]}, rng) <= 3 for _ in range(50))


def test_a_form_gets_only_its_own_fields_and_approvals_their_decision():
    forms = FormFields(read_folder(SHIPPED_BPMN))
    apply = forms.of("forms/apply.schema.json")
    assert apply is not None and "amount" in apply and "lines" not in apply
    assert only({"amount": "1", "lines": [], "urgent": True}, apply) == {"amount": "1"}
    assert only({"amount": "1"}, forms.of(None)) == {}
    approve = forms.of("forms/approve.schema.json")
    answer = decision({"decisions": {"send_back": 1}}, approve, random.Random(0))  # noqa: S311
    assert answer == {"decision": "send_back", "comment": "please correct 请修改"}


def test_the_shipped_escalations_are_the_interrupting_timers_on_user_tasks():
    found = escalation_ids(read_folder(SHIPPED_BPMN))
    assert {"escalate_manager", "escalate_department_head", "escalate_countersign"} <= found
    assert not any("remind" in e for e in found)


def test_percentiles_never_put_p90_below_the_median():
    for values in ([1.0], [1.0, 9.0], [3.0, 1.0, 2.0, 10.0, 4.0]):
        figures = summary(values)
        assert figures is not None and figures["median"] <= figures["p90"]
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert summary([]) is None
