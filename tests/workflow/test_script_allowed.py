"""What diagram code may do in the sandbox, and the sandbox end to end through SpiffWorkflow."""

from __future__ import annotations

import decimal
import time
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.workflow.scripts.errors import (
    ScriptError,
    ScriptFailed,
    ScriptRefused,
    ScriptSyntaxError,
)
from engine.workflow.scripts.sandbox import Sandbox, compile_code
from engine.workflow.scripts.spiff_adapter import make_script_engine
from tests.workflow.sandbox_support import LIMITS, task_data

# ---------------------------------------------------------------- what diagram code may do


@pytest.mark.parametrize(("expression", "expected"), [
    ("amount > 5000 and subject == 'travel'", True),
    ("total <= Decimal('20000')", True),
    ("len(approvers) > 0", True),
    ("'li.si' in approvers", True),
    ("decision == 'reject'", False),
    ("f'PT{sla_hours}H'", "PT4H"),
    ("(amount) == (6000)", True),
    ("subject.upper() if subject else ''", "TRAVEL"),
    ("sum(Decimal(l['amount']) for l in lines)", Decimal("1500.50")),
    ("max(l['amount'] for l in lines)", "300"),
    ("round_money(total * Decimal('0.065'))", Decimal("1001.00")),
    ("submitted + timedelta(days=30) > date(2024, 2, 29)", True),
    ("json.loads('{\"a\": [1, 2]}')['a'][1]", 2),
    ("isinstance(lines, list) and not isinstance(lines, dict)", True),
    ("isinstance(total, Decimal) and isinstance(amount, int)", True),
    ("f'{total:,.2f}'", "15,400.00"),
    ("f'{submitted:%Y-%m}'", "2024-01"),
])
def test_typical_expressions_evaluate(sandbox: Sandbox, expression: str, expected: Any):
    data = {**task_data(), "total": Decimal("15400"), "decision": "agree", "sla_hours": 4}
    assert sandbox.evaluate(expression, data) == expected


def test_operations_python_would_make_slow_stay_fast(sandbox: Sandbox):
    started = time.thread_time()  # CPU time: a busy machine stretches wall time, not the work done
    assert sandbox.evaluate("round(12345, -10**7)", {}) == 0  # CPython computes 10**10**7 first
    assert sandbox.evaluate("[_ for _ in range(3)]", {}) == [0, 1, 2]
    assert time.thread_time() - started < 0.1


def test_dmn_style_input_comes_from_external_context(sandbox: Sandbox):
    assert sandbox.evaluate("1000 < dmninputexpr <= 50000", {}, {"dmninputexpr": 3000}) is True


def test_script_computes_total_with_decimal(sandbox: Sandbox):
    data = task_data()
    sandbox.execute("total = sum(Decimal(l['amount']) for l in lines)\nneeds_manager = total > 1000", data)
    assert data["total"] == Decimal("1500.50") and data["needs_manager"] is True


def test_script_date_arithmetic(sandbox: Sandbox):
    data = task_data()
    sandbox.execute("due = submitted + timedelta(days=30)\nlate = days_between(due, date(2024, 3, 15))\n"
                    "stamp = datetime(2024, 3, 1, 9, 30, tzinfo=UTC).isoformat()", data)
    assert data["due"] == date(2024, 3, 1) and data["late"] == 14
    assert data["stamp"] == "2024-03-01T09:30:00+00:00"


def test_script_assignments_and_mutations_become_task_data(sandbox: Sandbox):
    data = task_data()
    sandbox.execute("lines.append({'amount': '5'})\nsummary = {}\nsummary['count'] = len(lines)\n"
                    "tmp = 1\ndel tmp\nn = 0\nfor line in lines:\n    n += 1\n", data)
    assert data["summary"] == {"count": 3} and len(data["lines"]) == 3
    assert "tmp" not in data and data["line"] == {"amount": "5"} and data["n"] == 3  # loop variables too


def test_augmented_assignment_of_items_works_like_python(sandbox: Sandbox):
    data = {"totals": {"TRAVEL": Decimal("1.50")}, "counts": [1, 2]}
    sandbox.execute("totals['TRAVEL'] += Decimal('2.25')\nk = 'HOTEL'\ntotals[k] = 0\ntotals[k] += 5\n"
                    "counts[0] *= 10\ncounts[-1] -= 2", data)
    assert data["totals"] == {"TRAVEL": Decimal("3.75"), "HOTEL": 5} and data["counts"] == [10, 0]


def test_non_data_leftovers_are_removed(sandbox: Sandbox):
    data = task_data()
    sandbox.execute("m = math\nj = json\nf = lambda v: v\ndef g():\n    pass\nseen = {1, 2}\nr = range(3)\n"
                    "it = iter_like = reversed([1])\nD = Decimal\nkept = 1", data)
    assert set(data) == set(task_data()) | {"kept"}


def test_nested_non_data_is_refused(sandbox: Sandbox):
    with pytest.raises(ScriptFailed, match="variable 'bad' holds a set value"):
        sandbox.execute("bad = [{1, 2}]", {})
    with pytest.raises(ScriptFailed, match="dict keys must be strings"):
        sandbox.execute("bad = {1: 'a'}", {})


def test_task_data_named_like_a_helper_only_matters_when_used(sandbox: Sandbox):
    data = {"date": "2024-01-31"}
    sandbox.execute("y = 1", data)
    assert data == {"date": "2024-01-31", "y": 1}
    with pytest.raises(ScriptFailed, match=r"task data \['date'\] hides names"):
        sandbox.execute("y = date.today()", data)
    with pytest.raises(ScriptFailed, match=r"the script assigns \['json'\]"):
        sandbox.execute("json = 1", {})


def test_decimal_context_is_isolated_both_ways(sandbox: Sandbox):
    data: dict[str, Any] = {}
    with decimal.localcontext(decimal.Context(prec=3)):
        sandbox.execute("third = Decimal(1) / Decimal(3)", data)
        assert decimal.getcontext().prec == 3
    assert data["third"] == Decimal("0.3333333333333333333333333333")
    assert decimal.getcontext().prec == 28


def test_code_is_compiled_once_per_source(sandbox: Sandbox):
    source = "amount > 4999 and subject != 'cached'"
    sandbox.evaluate(source, task_data())
    misses = compile_code.cache_info().misses
    sandbox.evaluate(source, task_data())
    Sandbox(limits=LIMITS).evaluate(source, task_data())  # another engine with the same limits shares it
    assert compile_code.cache_info().misses == misses


def test_extra_globals_can_be_called_but_not_inspected():
    def vat_rate(region: str) -> Decimal:
        return Decimal("0.13") if region == "CN" else Decimal("0.2")

    sandbox = Sandbox({"vat_rate": vat_rate}, LIMITS)
    assert sandbox.evaluate("vat_rate('CN') * 100", {}) == Decimal("13.00")
    with pytest.raises(ScriptRefused, match="attribute 'func_globals' of function"):
        sandbox.evaluate("vat_rate.func_globals", {})
    with pytest.raises(ValueError, match="must not start with '_'"):
        Sandbox({"_getattr_": getattr})


@pytest.mark.parametrize(("source", "error", "message"), [
    ("x is 1", ScriptRefused, "compiles with a warning"),
    ("x ==", ScriptSyntaxError, "syntax error"),
    ("Decimal('abc')", ScriptFailed, "InvalidOperation: ConversionSyntax"),
    ("undefined_name + 1", ScriptFailed, "NameError: name 'undefined_name' is not defined"),
])
def test_mistakes_give_clear_errors(sandbox: Sandbox, source: str, error: type[ScriptError], message: str):
    with pytest.raises(error, match=message):
        sandbox.evaluate(source, {"x": 1})


# ---------------------------------------------------------------- end to end through SpiffWorkflow

CLAIM_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="budgetflow">
  <bpmn:process id="claim" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute_total" />
    <bpmn:scriptTask id="compute_total" name="Compute total">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>SCRIPT</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="compute_total" targetRef="route" />
    <bpmn:exclusiveGateway id="route" default="to_auto">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>to_manager</bpmn:outgoing><bpmn:outgoing>to_auto</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="to_manager" sourceRef="route" targetRef="manager_approval">
      <bpmn:conditionExpression>CONDITION</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_auto" sourceRef="route" targetRef="auto_approved" />
    <bpmn:userTask id="manager_approval" name="Manager approval">
      <bpmn:extensionElements>
        <spiffworkflow:preScript>sla_hours = 4 if total &gt; Decimal('10000') else 8</spiffworkflow:preScript>
      </bpmn:extensionElements>
      <bpmn:incoming>to_manager</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="manager_approval" targetRef="approved" />
    <bpmn:endEvent id="approved"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="auto_approved"><bpmn:incoming>to_auto</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
TOTAL_SCRIPT = "total = sum(Decimal(line['amount']) for line in lines)"


def run_claim(amounts: list[str], condition: str = "total &gt; Decimal('5000')", script: str = TOTAL_SCRIPT,
              engine: PythonScriptEngine | None = None) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(CLAIM_BPMN.replace("CONDITION", condition).replace("SCRIPT", script).encode())
    wf = BpmnWorkflow(parser.get_spec("claim"), parser.get_subprocess_specs("claim"),
                      script_engine=engine or make_script_engine())
    wf.task_tree.data.update(lines=[{"amount": a} for a in amounts])
    wf.do_engine_steps()
    return wf


def test_claim_over_the_limit_goes_to_the_manager_with_its_pre_script_run():
    wf = run_claim(["4000", "2500.50"])
    [task] = wf.get_tasks(state=TaskState.READY, manual=True)
    assert task.task_spec.bpmn_id == "manager_approval"
    assert task.data["total"] == Decimal("6500.50") and task.data["sla_hours"] == 8
    assert not any(k.startswith("_") or k in ("Decimal", "math") for k in task.data)


def test_claim_under_the_limit_is_approved_automatically():
    wf = run_claim(["120", "80"])
    assert wf.is_completed()
    done = {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)}
    assert "auto_approved" in done and "manager_approval" not in done


def test_malicious_gateway_condition_stops_the_workflow_with_a_clear_error():
    with pytest.raises(WorkflowTaskException) as caught:
        run_claim(["1"], condition="().__class__.__base__.__subclasses__()")
    assert "ScriptRefused: attribute '__class__' is not allowed in expression" in str(caught.value)
    assert caught.value.task.task_spec.bpmn_id == "route"


def test_a_stock_engine_class_keeps_the_sandbox_and_the_message():
    engine = make_script_engine(engine_class=PythonScriptEngine)  # e.g. a subclass carrying the connector port
    with pytest.raises(ScriptRefused, match="attribute '__class__' is not allowed in expression"):
        run_claim(["1"], condition="().__class__.__base__.__subclasses__()", engine=engine)


@pytest.mark.parametrize(("script", "message"), [
    ("x = = 1", "ScriptSyntaxError: syntax error"),  # the library's own path raises TypeError here
    ("y = Decimal('abc')", "ScriptFailed: InvalidOperation: ConversionSyntax"),  # ... and here
    ("while True: pass", "ScriptTimeout: the script ran longer than its 1 s limit"),
])
def test_failing_script_task_names_the_task_and_the_reason(script: str, message: str):
    with pytest.raises(WorkflowTaskException) as caught:
        run_claim(["1"], script=script)
    assert message in str(caught.value)
    assert caught.value.task.task_spec.bpmn_id == "compute_total"
