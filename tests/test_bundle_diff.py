"""``bpmn diff``'s engine side (engine/workflow/diff.py): what a designer changed, element by element and rule by
rule, on copies of the shipped diagrams; the canvas layout is not a change; a broken draft is reported, not
raised."""

from __future__ import annotations

from pathlib import Path

from engine.workflow.bundle import read_folder
from engine.workflow.diff import diff, lines

BPMN = Path(__file__).resolve().parents[1] / "bpmn"
TRAVEL, CHAIN, ROUTE = ("travel_application/travel_application.bpmn", "shared/approval_chain.bpmn",
                        "shared/approval_route.dmn")
NEW_RULE = """<rule id="rule_training">
        <description>Training above 3,000: department head</description>
        <inputEntry id="rule_training_subject"><text>"TRAINING"</text></inputEntry>
        <inputEntry id="rule_training_amount"><text>&gt; 3000</text></inputEntry>
        <outputEntry id="rule_training_department_head"><text>True</text></outputEntry>
        <outputEntry id="rule_training_finance_director"><text>False</text></outputEntry>
        <outputEntry id="rule_training_countersign"><text>False</text></outputEntry>
      </rule>
      <rule id="rule_5">"""


def edited(**changes: tuple[str, str]) -> dict[str, str]:
    files = read_folder(BPMN)
    for name, (old, new) in changes.items():
        key = {"travel": TRAVEL, "chain": CHAIN, "route": ROUTE}[name]
        assert old in files[key], old
        files[key] = files[key].replace(old, new, 1)
    return files


def changed(result, section_id: str) -> dict[str, list[str]]:
    section = next(s for s in result.sections if s.id == section_id)
    return {c["id"]: c["what"] for c in section.changed}


def test_identical_bundles_and_a_moved_shape_make_no_difference():
    files = read_folder(BPMN)
    assert diff(files, files).empty
    moved = edited(travel=('<dc:Bounds x="100" y="60"', '<dc:Bounds x="140" y="90"'))
    result = diff(files, moved)
    assert result.sections == [] and result.files_changed == [TRAVEL]


def test_condition_timer_operator_parameter_name_and_lane_changes_are_named():
    files = read_folder(BPMN)
    draft = edited(
        travel=("decision == 'reject'", "decision in ('reject', 'refuse')"),
        chain=('<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">reminder_cycle</bpmn:timeCycle>',
               '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">"R/PT4H"</bpmn:timeCycle>'))
    draft[TRAVEL] = draft[TRAVEL].replace("value=\"'travel_application_sent_back'\"", "value=\"'sent_back'\"", 1)
    draft[TRAVEL] = draft[TRAVEL].replace('name="Reserve budget 预算预占"', 'name="Reserve the budget 预算预占"', 1)
    result = diff(files, draft)
    travel = changed(result, "travel_application")
    assert travel["flow_gw_approval_outcome_to_set_rejected"] == ["conditionExpression"]
    assert travel["notify_sent_back"] == ["extensionElements"]
    assert travel["reserve_budget"] == ["@name"]
    assert changed(result, "approval_chain") == {"remind_manager": ["timerEventDefinition"]}


def test_elements_added_and_removed_by_id_with_type_and_name():
    files = read_folder(BPMN)
    draft = edited(travel=('<bpmn:endEvent id="end_application"', '<bpmn:endEvent id="end_travel"'))
    section = next(s for s in diff(files, draft).sections if s.id == "travel_application")
    assert [(a["id"], a["type"]) for a in section.added] == [("end_travel", "endEvent")]
    assert [(r["id"], r["type"], r["name"]) for r in section.removed] == [("end_application", "endEvent", "Done 结束")]


def test_dmn_rules_added_and_changed_with_their_cells():
    files = read_folder(BPMN)
    draft = edited(route=('<rule id="rule_5">', NEW_RULE))
    draft[ROUTE] = draft[ROUTE].replace("&gt; 5000", "&gt; 8000", 1)
    [section] = diff(files, draft).sections
    assert (section.kind, section.id, section.file) == ("decision", "approval_route", ROUTE)
    [added] = section.added
    assert added["id"] == "rule_training" and added["cells"]["Expense subject 费用科目"] == '"TRAINING"'
    [rule_4] = section.changed
    assert rule_4["id"] == "rule_4" and rule_4["what"] == ["Amount (Decimal) 金额"]
    shown = ("  ~ rule_4 (rule, 'Above 5,000: department head 超 5 千：部门负责人'): "
             "Amount (Decimal) 金额: > 5000 -> > 8000")
    assert shown in lines(diff(files, draft))


def test_a_draft_that_does_not_parse_is_reported_and_its_processes_are_not_called_removed():
    files = read_folder(BPMN)
    draft = {**files, TRAVEL: files[TRAVEL][:500]}
    result = diff(files, draft)
    assert [u.split(":")[0] for u in result.unreadable] == [TRAVEL]
    assert all(s.file != TRAVEL for s in result.sections)
    assert lines(result)[0].startswith(f"! {TRAVEL}: ")
