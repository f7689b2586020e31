"""The five everyday changes of issue 12's first acceptance point, made to copies of bpmn/ and the dictionary.

No Python of the product is edited: each change is a diagram, form or dictionary edit as a designer
makes it, plus the scenario file that shows it. ``apply(name, bpmn, dictionary)`` makes one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from tests.designer.diagram_edits import Diagram, script, user_task_extensions

TRAVEL = "travel_application/travel_application.bpmn"
CHAIN = "shared/approval_chain.bpmn"
ROUTE = "shared/approval_route.dmn"
APPLY_FORM = "travel_application/forms/apply.schema.json"


def budget_line_owner_lane(bpmn: Path, dictionary: Path) -> None:
    """The budget line's owner signs off an approved travel application, in a lane of its own."""
    add_dictionary_lane(dictionary)
    diagram = Diagram(bpmn / TRAVEL)
    diagram.add_lane("lane_budget_line_owner", "budget_line_owner", "Budget line owner 预算负责人")
    top = diagram.lane_top("lane_budget_line_owner")
    gateway = diagram.bounds("gw_approval_outcome")
    task = diagram.add_node("userTask", "approve_by_budget_line_owner", "Budget owner sign-off 预算负责人确认",
                            lane="lane_budget_line_owner", x=gateway["x"] + 80, y=top + 60, before="set_approved")
    user_task_extensions(task, form="../shared/forms/approve.schema.json")
    diagram.add_node("exclusiveGateway", "gw_budget_line_owner", "Signed off? 是否确认",
                     lane="lane_budget_line_owner", x=gateway["x"] + 240, y=top + 75, before="set_approved")
    diagram.retarget("flow_gw_approval_outcome_to_set_approved", "approve_by_budget_line_owner")
    diagram.add_flow("flow_approve_by_budget_line_owner_to_gw_budget_line_owner", "approve_by_budget_line_owner",
                     "gw_budget_line_owner")
    diagram.add_flow("flow_gw_budget_line_owner_to_set_approved", "gw_budget_line_owner", "set_approved",
                     condition="decision == 'approve'", name="approve 同意")
    diagram.add_flow("flow_gw_budget_line_owner_to_set_rejected", "gw_budget_line_owner", "set_rejected",
                     name="otherwise 否则")
    diagram.set_default("gw_budget_line_owner", "flow_gw_budget_line_owner_to_set_rejected")
    diagram.save()


def add_dictionary_lane(dictionary: Path) -> None:
    """The lane in the dictionary's lanes.csv (its format: docs/master-data.md); the version goes up."""
    lanes = dictionary / "lanes.csv"
    text = lanes.read_text(encoding="utf-8")
    if "budget_line_owner," not in text:
        lanes.write_text(text.rstrip("\n") + "\n" + LANE_ROW + "\n", encoding="utf-8")
    bump_version(dictionary)


LANE_ROW = "budget_line_owner,budget_line_owner,,escalate,true,预算负责人 the owner of the budget line charged"


def without_lane(dictionary: Path, lane: str) -> None:
    """The dictionary as it was before a lane was added (the demo one ships the example lane)."""
    lanes = dictionary / "lanes.csv"
    rows = lanes.read_text(encoding="utf-8").splitlines()
    lanes.write_text("\n".join(r for r in rows if not r.startswith(lane + ",")) + "\n", encoding="utf-8")


def bump_version(dictionary: Path) -> None:
    manifest = dictionary / "manifest.toml"
    text = manifest.read_text(encoding="utf-8")
    version = re.search(r'^version = "([^"]+)"', text, re.M)
    assert version is not None
    manifest.write_text(text.replace(version.group(0), f'version = "{version.group(1)}.1"'), encoding="utf-8")


def threshold_moved(bpmn: Path, dictionary: Path) -> None:
    """The department head is needed from 8,000 instead of 5,000."""
    path = bpmn / ROUTE
    text = path.read_text(encoding="utf-8")
    assert text.count("&gt; 5000") == 1
    path.write_text(text.replace("&gt; 5000", "&gt; 8000"), encoding="utf-8")


def reminder_interval(bpmn: Path, dictionary: Path) -> None:
    """Approvers are reminded every 4 hours instead of every 24."""
    path = bpmn / CHAIN
    text = path.read_text(encoding="utf-8")
    assert text.count("R3/PT24H") == 1
    path.write_text(text.replace("R3/PT24H", "R3/PT4H"), encoding="utf-8")


def urgent_field(bpmn: Path, dictionary: Path) -> None:
    """A new form field ``urgent``; a gateway sends urgent trips to the department head whatever the amount."""
    form_path = bpmn / APPLY_FORM
    form = json.loads(form_path.read_text(encoding="utf-8"))
    form["properties"]["urgent"] = {"type": "boolean", "title": "Urgent 加急", "default": False}
    form_path.write_text(json.dumps(form, ensure_ascii=False, indent=2), encoding="utf-8")
    diagram = Diagram(bpmn / TRAVEL)
    route = diagram.bounds("decide_route")
    system = "lane_system"
    diagram.add_node("exclusiveGateway", "gw_urgent", "Urgent? 是否加急", lane=system,
                     x=route["x"] + 110, y=route["y"] + 140, before="approval")
    mark = diagram.add_node("scriptTask", "mark_urgent", "Urgent: department head too 加急需部门负责人",
                            lane=system, x=route["x"] + 160, y=route["y"] + 240, before="approval")
    script(mark, "need_department_head = True")
    diagram.retarget("flow_decide_route_to_approval", "gw_urgent")
    diagram.add_flow("flow_gw_urgent_to_mark_urgent", "gw_urgent", "mark_urgent", condition="urgent == True",
                     name="urgent 加急")
    diagram.add_flow("flow_mark_urgent_to_approval", "mark_urgent", "approval")
    diagram.add_flow("flow_gw_urgent_to_approval", "gw_urgent", "approval", name="otherwise 否则")
    diagram.set_default("gw_urgent", "flow_gw_urgent_to_approval")
    diagram.save()


def conference_subject(bpmn: Path, dictionary: Path) -> None:
    """A new subject CONFERENCE (dictionary, budget lines, form) and a DMN rule: it always needs the department head."""
    add_conference_to_dictionary(dictionary)
    form_path = bpmn / APPLY_FORM
    form = json.loads(form_path.read_text(encoding="utf-8"))
    form["properties"]["subject"]["oneOf"].append({"const": "CONFERENCE", "title": "Conference 会议费"})
    form_path.write_text(json.dumps(form, ensure_ascii=False, indent=2), encoding="utf-8")
    path = bpmn / ROUTE
    text = path.read_text(encoding="utf-8")
    first_rule = text.index("<rule ")
    indent = text.rfind("\n", 0, first_rule) + 1
    rule = CONFERENCE_RULE.replace("\n", "\n" + text[indent:first_rule])
    path.write_text(text[:first_rule] + rule + "\n" + text[indent:first_rule] + text[first_rule:], encoding="utf-8")


CONFERENCE_RULE = """<rule id="rule_conference">
  <description>Conference: department head 会议费：部门负责人</description>
  <inputEntry id="rule_conference_subject"><text>"CONFERENCE"</text></inputEntry>
  <inputEntry id="rule_conference_amount"><text>-</text></inputEntry>
  <outputEntry id="rule_conference_department_head"><text>True</text></outputEntry>
  <outputEntry id="rule_conference_finance_director"><text>False</text></outputEntry>
  <outputEntry id="rule_conference_countersign"><text>False</text></outputEntry>
</rule>"""


def add_conference_to_dictionary(dictionary: Path) -> None:
    subjects = dictionary / "expense_subjects.csv"
    rows = subjects.read_text(encoding="utf-8").splitlines()
    if not any(r.startswith("CONFERENCE,") for r in rows):
        rows.append("CONFERENCE,会议费,Conference,6602.09,660209,6602090000,deductible,true")
        subjects.write_text("\n".join(rows) + "\n", encoding="utf-8")
    lines_path = dictionary / "budget_lines.csv"
    lines = lines_path.read_text(encoding="utf-8").splitlines()
    travel_lines = [r for r in lines if ",TRAVEL," in r]
    lines.extend(r.replace(",TRAVEL,", ",CONFERENCE,") for r in travel_lines if r.replace(",TRAVEL,", ",CONFERENCE,")
                 not in lines)
    lines_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bump_version(dictionary)


CHANGES: dict[str, Callable[[Path, Path], None]] = {
    "budget_line_owner_lane": budget_line_owner_lane,
    "threshold_moved": threshold_moved,
    "reminder_interval": reminder_interval,
    "urgent_field": urgent_field,
    "conference_subject": conference_subject,
}
