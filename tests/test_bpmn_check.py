"""``budgetflow bpmn check``: one deliberately broken diagram per rule, each reported at the right element."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.workflow.check import check as check_files

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "engine_fixtures"
CLAIM = (FIXTURES / "mini_claim.bpmn").read_text(encoding="utf-8")
TIMER = (FIXTURES / "mini_timer.bpmn").read_text(encoding="utf-8")
DMN = (ROOT / "bpmn" / "shared" / "approval_route.dmn").read_text(encoding="utf-8")
FILL = '<bpmn:userTask id="fill_claim" name="Fill claim">'
FORM = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
        'value="forms/missing.schema.json" /></spiffworkflow:properties></bpmn:extensionElements>')
NOTIFY = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="notify" '
          'value="{value}" /></spiffworkflow:properties></bpmn:extensionElements>')

BROKEN = {  # rule -> (file name, broken text, expected "file:element-id: message" start)
    "schema": ("mini_claim.bpmn", CLAIM.replace(FILL, FILL + "<bpmn:bogus/>"),
               "mini_claim.bpmn:fill_claim: Element 'bpmn:bogus': This element is not expected"),
    "not well-formed": ("mini_claim.bpmn", CLAIM.replace("</bpmn:process>", "</bpmn:proces>"),
                        "mini_claim.bpmn:line "),
    "unknown operator": ("mini_claim.bpmn", CLAIM.replace('id="budget/Reserve"', 'id="budget/Reserv"'),
                         "mini_claim.bpmn:reserve_budget: unknown operator 'budget/Reserv'"),
    "missing parameter": ("mini_claim.bpmn",
                          CLAIM.replace('<spiffworkflow:parameter id="period" type="str" value="period" />', ""),
                          "mini_claim.bpmn:reserve_budget: operator budget/Reserve needs parameter 'period'"),
    "lane without role": ("mini_claim.bpmn", CLAIM.replace('name="manager">', 'name="boss">'),
                          "mini_claim.bpmn:lane_manager: lane 'boss' maps to no role"),
    "missing form": ("mini_claim.bpmn", CLAIM.replace(FILL, FILL + FORM),
                     "mini_claim.bpmn:fill_claim: form file 'forms/missing.schema.json' not found"),
    "notify value": ("mini_claim.bpmn", CLAIM.replace(FILL, FILL + NOTIFY.format(value="sometimes")),
                     "mini_claim.bpmn:fill_claim: property 'notify' is 'sometimes'; known: on_open"),
    "notify off a user task": ("mini_claim.bpmn", CLAIM.replace(
        '<spiffworkflow:serviceTaskOperator id="budget/Reserve"',
        '<spiffworkflow:properties><spiffworkflow:property name="notify" value="on_open" />'
        '</spiffworkflow:properties><spiffworkflow:serviceTaskOperator id="budget/Reserve"'),
        "mini_claim.bpmn:reserve_budget: property 'notify' belongs on a user task"),
    "bad timer": ("mini_timer.bpmn", TIMER.replace(">reminder_after<", '>"P2X"<'),
                  "mini_timer.bpmn:reminder_due: timer \"P2X\" is not an ISO 8601"),
    "dmn cell": ("route.dmn", DMN.replace("<text>&gt; 20000</text>", "<text>&gt; &gt; 20000</text>", 1),
                 "route.dmn:rule_1_amount: cell '> > 20000' is not a valid expression"),
    "dmn rule shape": ("route.dmn", DMN.replace('<inputEntry id="rule_1_amount"><text>&gt; 20000</text></inputEntry>',
                                                "", 1),
                       "route.dmn:rule_1: rule has 1 input and 3 output cells; the table has 2 inputs"),
}


def check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", "bpmn", "check", str(folder)], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=120)


@pytest.mark.parametrize("rule", list(BROKEN))
def test_each_broken_rule_is_reported_with_its_element(tmp_path, rule):
    file_name, text, expected = BROKEN[rule]
    assert text not in (CLAIM, TIMER, DMN), "the fixture edit did not apply"
    (tmp_path / file_name).write_text(text, encoding="utf-8")
    result = check(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert any(line.startswith(expected) for line in result.stdout.splitlines()), result.stdout


def test_the_shipped_diagrams_pass():
    result = check(ROOT / "bpmn")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "bpmn check: OK" in result.stdout


def test_deploy_refuses_a_broken_folder_and_stores_nothing(tmp_path, cli_env):
    (tmp_path / "mini_claim.bpmn").write_text(BROKEN["unknown operator"][1], encoding="utf-8")
    deploy = subprocess.run([sys.executable, "-m", "engine", "bpmn", "deploy", str(tmp_path)], cwd=ROOT,
                            env=cli_env, capture_output=True, text=True, check=False, timeout=120)
    assert deploy.returncode == 1 and "nothing deployed" in deploy.stderr
    listing = subprocess.run([sys.executable, "-m", "engine", "bpmn", "list"], cwd=ROOT, env=cli_env,
                             capture_output=True, text=True, check=False, timeout=120)
    assert "mini_claim" not in listing.stdout


# ---------------------------------------------------------------- diagram code compiled at publishing

CHAIN = (ROOT / "bpmn" / "shared" / "approval_chain.bpmn").read_text(encoding="utf-8")
POST = "<spiffworkflow:postScript>vote = {'approver': approver, 'decision': decision, 'comment': comment}"
CODE = {  # where the code sits -> (file, text with refused code, expected line start)
    "script task": ("mini_claim.bpmn", CLAIM.replace("<bpmn:script>outcome = 'rejected'",
                                                     "<bpmn:script>import os\noutcome = 'rejected'"),
                    "mini_claim.bpmn:set_rejected: script is refused: 'import' is not allowed"),
    "sequence-flow condition": ("mini_claim.bpmn", CLAIM.replace(">decision == 'approve'<", ">x.__class__<", 1),
                                "mini_claim.bpmn:f5: condition is refused: attribute '__class__' is not allowed"),
    "service parameter": ("mini_claim.bpmn", CLAIM.replace('value="org_unit"', 'value="open(org_unit)"'),
                          "mini_claim.bpmn:reserve_budget: parameter 'org_unit' is refused: call to 'open'"),
    "timer expression": ("mini_timer.bpmn", TIMER.replace(">reminder_after<", ">10**10**10<"),
                         "mini_timer.bpmn:reminder_due: timer expression is refused: '**' would build"),
    "post script": ("approval_chain.bpmn", CHAIN.replace(POST, POST.replace("vote = ", "vote = __import__('os')\n")),
                    "approval_chain.bpmn:countersign: postScript is refused: name '__import__' is not allowed"),
    "completion condition": ("approval_chain.bpmn", CHAIN.replace(">decision != 'approve'<", ">(y := 1)<"),
                             "approval_chain.bpmn:countersign: completion condition is refused: ':=' is not allowed"),
    "dmn input expression": ("route.dmn", DMN.replace("<text>subject</text>", "<text>subject.__class__</text>"),
                             "route.dmn:input_subject_expression: input expression is refused: attribute '__class__'"),
    "dmn input cell": ("route.dmn", DMN.replace("<text>&gt; 20000</text>", "<text>&gt; eval('1')</text>", 1),
                       "route.dmn:rule_1_amount: cell \"> eval('1')\" is refused: call to 'eval'"),
    "dmn output cell": ("route.dmn", DMN.replace('<outputEntry id="rule_1_department_head"><text>True</text>',
                                                 '<outputEntry id="rule_1_department_head"><text>f"{x:{9}}"</text>'),
                        "route.dmn:rule_1_department_head: cell 'f\"{x:{9}}\"' is refused: a computed format spec"),
}


@pytest.mark.parametrize("where", list(CODE))
def test_code_the_sandbox_refuses_is_reported_at_its_element(where):
    from engine.workflow.check import check as check_files

    file_name, text, expected = CODE[where]
    assert text not in (CLAIM, TIMER, DMN, CHAIN), "the fixture edit did not apply"
    problems = check_files({file_name: text})
    assert any(line.startswith(expected) for line in problems), problems


def test_bpmn_check_and_deploy_refuse_a_diagram_whose_script_would_be_refused(tmp_path, cli_env):
    (tmp_path / "mini_claim.bpmn").write_text(CODE["script task"][1], encoding="utf-8")
    result = check(tmp_path)
    assert result.returncode == 1 and CODE["script task"][2] in result.stdout, result.stdout + result.stderr
    deploy = subprocess.run([sys.executable, "-m", "engine", "bpmn", "deploy", str(tmp_path)], cwd=ROOT,
                            env=cli_env, capture_output=True, text=True, check=False, timeout=120)
    assert deploy.returncode == 1 and CODE["script task"][2] in deploy.stderr, deploy.stderr


def test_a_parameter_without_an_id_is_reported_and_the_check_goes_on():
    """A parameter with no id beside an unknown one: a problem line each, never a crash of the check itself."""
    broken = CLAIM.replace('<spiffworkflow:parameter id="period" type="str" value="period" />',
                           '<spiffworkflow:parameter type="str" value="period" />'
                           '<spiffworkflow:parameter id="extra" type="str" value="1" />')
    problems = check_files({"mini_claim.bpmn": broken})
    assert "mini_claim.bpmn:reserve_budget: operator budget/Reserve has a parameter without an id" in problems
    assert any(p.startswith("mini_claim.bpmn:reserve_budget: operator budget/Reserve has no parameter 'extra'")
               for p in problems), problems
