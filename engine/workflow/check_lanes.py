"""``bpmn check`` rule for lanes: every lane is known, and every user task sits in a lane of people.

A user task outside any lane would silently go to the applicant, and one in the ``system`` lane
would be offered to nobody: both are refused here, naming the lanes a diagram may use.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.domain.lanes import LANES
from engine.workflow.check_common import NS, element_id, suggest

SYSTEM_LANE = "system"  # machine steps: nobody is asked to act in it


def default_lanes() -> dict[str, str]:
    """The built-in lanes (used when the caller passes none)."""
    return {lane: "" for lane in LANES}


def check_lanes(name: str, root: Any, known: Mapping[str, str]) -> Iterator[str]:
    people = set(known) - {SYSTEM_LANE}
    for process in root.iterfind(".//bpmn:process", NS):
        lane_of: dict[str, str] = {}
        for lane in process.iterfind(".//bpmn:lane", NS):  # document order: a nested lane overrides its parent
            lane_name = lane.get("name") or ""
            if lane_name not in people | {SYSTEM_LANE}:
                yield (f"{name}:{element_id(lane)}: lane {lane_name!r} maps to no role "
                       f"({suggest(lane_name, people | {SYSTEM_LANE})})")
            for ref in lane.iterfind("bpmn:flowNodeRef", NS):
                lane_of[(ref.text or "").strip()] = lane_name
        for task in process.iterfind(".//bpmn:userTask", NS):
            lane_name = lane_of.get(task.get("id") or "")
            if lane_name is None:
                yield (f"{name}:{element_id(task)}: user task is in no lane, so it would go to the applicant; "
                       f"put it in the lane of the people who act on it (known: {', '.join(sorted(people))})")
            elif lane_name == SYSTEM_LANE:
                yield (f"{name}:{element_id(task)}: user task is in the {SYSTEM_LANE!r} lane, where nobody is asked "
                       f"to act; move it to a lane of people (known: {', '.join(sorted(people))})")
