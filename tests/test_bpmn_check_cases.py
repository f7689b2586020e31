"""``bpmn check`` on one broken folder per rule (tests/bpmn_check_cases/*): exactly the expected lines.

Each case folder holds the diagrams (and forms) of one mistake a designer makes, and ``expected.txt``:
one line per problem the check must report, each the start of the reported line (``file:element-id:
message...``). The check must report those lines and no other, so a rule that starts flagging
something else, or stops flagging its case, fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.workflow.bundle import parse, read_folder
from engine.workflow.check import check
from engine.workflow.errors import BundleInvalid

CASES = Path(__file__).parent / "bpmn_check_cases"
SHIPPED = Path(__file__).resolve().parent.parent / "bpmn"


def expected(case: Path) -> list[str]:
    return sorted(line for line in (case / "expected.txt").read_text(encoding="utf-8").splitlines() if line)


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if (p / "expected.txt").exists()))
def test_each_broken_folder_reports_exactly_its_lines(case):
    folder = CASES / case
    found = sorted(check(read_folder(folder)))
    wanted = expected(folder)
    assert len(found) == len(wanted), "\n".join(found)
    for line, start in zip(found, wanted, strict=True):
        assert line.startswith(start), f"{line!r} does not start with {start!r}"


def test_there_is_a_case_per_rule():
    assert len([p for p in CASES.iterdir() if (p / "expected.txt").exists()]) >= 20


def test_the_shipped_diagrams_pass_every_rule():
    assert check(read_folder(SHIPPED)) == []


def test_lanes_can_be_given_and_messages_name_them():
    """With the dictionary's lanes (the lead wires them in), a lane outside them is refused, naming them."""
    files = read_folder(CASES / "unknown_lane")
    lines = check(files, lanes={"manager": "the applicant's manager", "budget_line_owner": "owner of the line",
                                "applicant": "", "finance": "", "managr": "a lane the dictionary declares"})
    assert not any(line.startswith("mini_claim.bpmn:lane_manager:") for line in lines), lines
    lines = check(read_folder(CASES / "user_task_without_lane"), lanes={"budget_line_owner": "owner"})
    assert any("known: budget_line_owner)" in line for line in lines), lines


PUBLIC = Path(__file__).parent / "fixtures" / "public_diagrams"
PUBLIC_EXPECTED = {  # file -> the start of every line it must give (see the folder's README for where each is from)
    "dmn_1_2_drd.dmn": ["dmn_1_2_drd.dmn:drd_defs: DMN namespace 'http://www.omg.org/spec/DMN/20180521/MODEL/' is not "
                        "supported"],
    "feel_words_out.dmn": ["feel_words_out.dmn:none_missing_out: output cell 'true' reads a variable 'true', which "
                           "breaks every request rule none_missing decides: write True"],
    "empty_table.dmn": ["empty_table.dmn:input_1: input column has no expression",
                        "empty_table.dmn:output_1: output column has no name"],
    "future_version.dmn": ["future_version.dmn:future_defs: DMN namespace 'https://www.omg.org/spec/DMN/20191112/MODEL/'"
                           " is not supported"],
    "no_input_expression.dmn": ["no_input_expression.dmn:age_in: input column has no expression"],
    "no_decision.dmn": ["no_decision.dmn:empty_defs: the file has 0 decisions; the engine reads exactly one"],
    "prefixed_namespace.dmn": ["prefixed_namespace.dmn:prefixed_defs: the DMN elements carry the prefix 'semantic:'"],
    "two_decisions.dmn": ["two_decisions.dmn:second: the decision needs exactly one decision table",
                          "two_decisions.dmn:two_defs: the file has 2 decisions; the engine reads exactly one"],
}


@pytest.mark.parametrize("file_name", sorted(PUBLIC_EXPECTED))
def test_public_style_dmn_files_give_lines_not_tracebacks(file_name):
    found = sorted(check({file_name: (PUBLIC / file_name).read_text(encoding="utf-8")}))
    wanted = sorted(PUBLIC_EXPECTED[file_name])
    assert len(found) == len(wanted), found
    for line, start in zip(found, wanted, strict=True):
        assert line.startswith(start), f"{line!r} does not start with {start!r}"


def test_every_public_fixture_is_covered():
    assert sorted(p.name for p in PUBLIC.glob("*.dmn")) == sorted(PUBLIC_EXPECTED)


def test_a_missing_decision_names_the_diagrams_that_call_it_never_a_question_mark():
    files = read_folder(SHIPPED)
    del files["shared/approval_route.dmn"]
    lines = check(files)
    assert lines and not any(line.startswith("?") for line in lines), lines
    assert {line.split(":")[0] for line in lines} == {"expense_claim/expense_claim.bpmn",
                                                      "travel_application/travel_application.bpmn"}, lines


def test_an_external_entity_is_never_read_into_a_diagram(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-4711", encoding="utf-8")
    diagram = (f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY s SYSTEM "{secret.as_uri()}">]>\n'
               '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
               '<bpmn:process id="p" isExecutable="true"><bpmn:scriptTask id="t"><bpmn:script>&s; +'
               '</bpmn:script></bpmn:scriptTask></bpmn:process></bpmn:definitions>')
    lines = check({"x.bpmn": diagram})
    assert lines and not any("TOPSECRET" in line for line in lines), lines


def test_a_bad_reminder_interval_set_by_the_policy_script_is_refused_at_every_timer_that_uses_it():
    """The issue's case: set_approval_policy assigns reminder_cycle = 'R3/PT24HX'; every reminder timer says so."""
    files = read_folder(SHIPPED)
    chain = "shared/approval_chain.bpmn"
    assert files[chain].count("reminder_cycle = 'R3/PT24H'") == 1
    files[chain] = files[chain].replace("reminder_cycle = 'R3/PT24H'", "reminder_cycle = 'R3/PT24HX'")
    lines = check(files)
    # the chain's timers, and the claim's overrun reminder: a call activity copies the chain's data back out
    timers = sum(text.count(">reminder_cycle</bpmn:timeCycle>") for text in files.values())
    assert timers >= 3 and len(lines) == timers, lines
    assert all("timer reminder_cycle can be 'R3/PT24HX' (set by set_approval_policy in shared/approval_chain.bpmn)"
               in line for line in lines), lines


SPIFFARENA_FORMS = PUBLIC / "spiffarena_forms"  # forms named as spiff-arena names them (see the README there)


def test_a_form_named_the_spiffarena_way_is_read_and_its_layout_file_is_not():
    files = read_folder(SPIFFARENA_FORMS)
    assert "pick-branch-schema.json" in files and "pick-branch-uischema.json" not in files
    assert sorted(files.unread) == ["note_form.json", "pick-branch-uischema.json"]
    form = parse(files).form("forms.bpmn", "pick-branch-schema.json")  # and it runs: the bundle finds it
    assert form.name == "pick-branch-schema.json"


def test_a_form_beside_the_diagram_under_an_unread_name_is_said_to_be_there_with_the_rule():
    lines = check(read_folder(SPIFFARENA_FORMS))
    assert lines == [
        "forms.bpmn:add_note: form file 'note_form.json' is present but not read as a form: a form file's name "
        "ends in .schema.json (or -schema.json, SpiffArena's naming; a -uischema.json file is a layout and is not "
        "read); rename it 'note_form.schema.json' and name that in the user task"], lines


def test_a_near_miss_under_an_unread_name_is_listed_and_marked():
    files = read_folder(SPIFFARENA_FORMS)
    files["forms.bpmn"] = files["forms.bpmn"].replace('value="note_form.json"', 'value="forms/note_form.schema.json"')
    (line,) = check(files)
    assert line.startswith("forms.bpmn:add_note: form file 'forms/note_form.schema.json' not found beside the "
                           "diagram: looked for forms/note_form.schema.json (beside the diagram)"), line
    assert ("similar files present: note_form.json (not read as a form: its name does not follow the naming "
            "rule)") in line
    assert line.endswith("(a form file's name ends in .schema.json (or -schema.json, SpiffArena's naming; a "
                         "-uischema.json file is a layout and is not read))"), line


def test_without_the_folder_listing_the_check_still_answers():
    """A plain mapping (the web upload, the API) has no ``unread``: the line says "not found", naming the rule."""
    files = dict(read_folder(SPIFFARENA_FORMS))
    (line,) = check(files)
    assert line.startswith("forms.bpmn:add_note: form file 'note_form.json' not found beside the diagram"), line


def test_a_diagram_that_is_not_utf8_is_named_not_a_crash(tmp_path):
    """An ISO-8859-1 diagram (well-formed XML, but the engine stores text as UTF-8) and a UTF-16 form."""
    (tmp_path / "latin.dmn").write_bytes('<?xml version="1.0" encoding="ISO-8859-1"?>\n<definitions '
                                         'xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="café"/>\n'
                                         .encode("latin-1"))
    (tmp_path / "note-schema.json").write_bytes('{"title": "note"}'.encode("utf-16"))
    lines = check(read_folder(tmp_path))
    assert lines == ["latin.dmn:-: the file is not UTF-8 text (byte 0xe9 at offset 126); save it as UTF-8",
                     "note-schema.json:-: the file is not UTF-8 text (byte 0xff at offset 0); save it as UTF-8"], lines


DANGLING = PUBLIC / "dangling_refs"  # references nobody defines (see the README there)


def test_every_reference_nobody_defines_is_named_once_at_its_element_never_a_typeerror():
    lines = check(read_folder(DANGLING))
    assert lines == [
        "refs.bpmn:no_cost: the event refers to error 'Error_no_cost', which no diagram defines (a bpmn:error with "
        "that id; none is defined)",
        "refs.bpmn:escalate: the event refers to escalation 'Escalation_late', which no diagram defines (a "
        "bpmn:escalation with that id; none is defined)",
        "refs.bpmn:signal: the event refers to signal 'order_canceled', which no diagram defines (a bpmn:signal with "
        "that id; did you mean 'order_cancelled'? known: order_cancelled)",
        "refs.bpmn:shipping_cost: business rule task names no decision: set spiffworkflow:calledDecisionId to a DMN "
        "decision id; its camunda:decisionRef 'shipping_costs' is not read (the folder defines no DMN decision)",
        "refs.bpmn:price: business rule task calls decision 'product_prices', which no DMN file defines (the folder "
        "defines no DMN decision)"], lines


def test_a_decision_in_another_file_is_found_and_a_near_name_suggested():
    files = read_folder(DANGLING)
    files["prices.dmn"] = (PUBLIC / "two_decisions.dmn").read_text(encoding="utf-8")
    lines = [line for line in check(files) if line.startswith("refs.bpmn:price:")]
    assert lines and "known: first, second" in lines[0], lines


def test_spiffworkflows_own_errors_are_said_as_its_own_not_as_a_bare_python_repr():
    """Alone, SpiffWorkflow's parser says TypeError("...raise_validation_exception() got an unexpected keyword...")."""
    with pytest.raises(BundleInvalid) as caught:
        parse(read_folder(DANGLING))
    (line,) = caught.value.problems
    assert line.startswith("refs.bpmn:escalate: SpiffWorkflow cannot read this element (TypeError: "), line
