"""``bpmn check`` holds every form to what the engine enforces: strict, bounded, hands off engine variables."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.workflow.bundle import read_folder
from engine.workflow.check import check
from tests.flows.support import BPMN

APPROVE = "shared/forms/approve.schema.json"


def _with_form(change) -> dict[str, str]:
    files = read_folder(BPMN)
    schema = json.loads(files[APPROVE])
    change(schema)
    files[APPROVE] = json.dumps(schema)
    return files


BREAKAGES = {
    "writable lane_owners": (lambda s: s["properties"].update(lane_owners={"type": "object",
                                                                          "additionalProperties": False}),
                             "field 'lane_owners' is set by the engine"),
    "writable service result": (lambda s: s["properties"].update(reservation={"type": "string", "maxLength": 9}),
                                "field 'reservation' is set by the engine"),
    "open object": (lambda s: s.pop("additionalProperties"), 'the form: an object must say "additionalProperties"'),
    "unbounded text": (lambda s: s["properties"]["comment"].pop("maxLength"),
                       "comment: a text field needs a maxLength"),
    "unbounded list": (lambda s: s["properties"].update(tags={"type": "array", "items": {"type": "string",
                                                                                         "maxLength": 9}}),
                       "tags: a list needs a maxItems"),
    "unknown format": (lambda s: s["properties"]["comment"].update(format="monye"), "unknown format 'monye'"),
    "not a schema": (lambda s: s.update(type=12), "not a valid JSON Schema"),
    "not an object form": (lambda s: s.update(type="array"), 'must have "type": "object"'),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_bpmn_check_names_the_task_and_the_form_that_is_unsafe(breakage):
    change, message = BREAKAGES[breakage]
    problems = check(_with_form(change))
    assert any(p.startswith("shared/approval_chain.bpmn:approve_by_manager: form shared/forms/approve.schema.json")
               and message in p for p in problems), problems


def test_the_shipped_diagrams_and_forms_pass():
    assert check(read_folder(BPMN)) == []


def test_bpmn_deploy_publishes_nothing_with_an_unsafe_form(tmp_path: Path, cli_env):
    folder = tmp_path / "bpmn"
    for name, text in _with_form(lambda s: s["properties"].update(org_unit={"type": "string",
                                                                            "maxLength": 9})).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "engine", "bpmn", "deploy", str(folder)], env=cli_env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 1
    assert "approve_by_manager: form shared/forms/approve.schema.json: field 'org_unit' is set by the engine" \
        in run.stderr and "nothing deployed" in run.stderr
