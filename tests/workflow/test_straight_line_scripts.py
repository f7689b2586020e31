"""Straight-line scripts run in-process, every other script in an evaluator, with one contract for both."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from engine.workflow.scripts import evaluator_wire as wire
from engine.workflow.scripts.errors import ScriptFailed
from engine.workflow.scripts.isolation import IsolatedScripts
from engine.workflow.scripts.sandbox import Sandbox, compile_code
from tests.workflow.sandbox_support import LIMITS

STRAIGHT = [
    "x = 1",
    "total = str(sum([Decimal(l['amount']) for l in lines], Decimal('0')))\namount_value = Decimal(total)",
    "if amount > 5:\n    x = 'big'\nelif amount > 2:\n    x = 'mid'\nelse:\n    pass",
    "try:\n    reservation_id\nexcept NameError:\n    reservation_id = None",
    "x = 1\nx += 2\ndel x\nassert amount > 0",
    "vetoes = [v for v in votes if v['decision'] != 'approve']\ndecision = vetoes[0]['decision'] if vetoes else 'ok'",
    "if amount < 0:\n    raise ValueError('negative')",
]
NOT_STRAIGHT = [
    "for i in range(3):\n    x = i",
    "while amount > 0:\n    amount -= 1",
    "def f(a):\n    return a\nx = f(1)",
    "x = (y := 2)",
    "try:\n    for i in range(2):\n        x = i\nexcept KeyError:\n    pass",
    "if amount:\n    while True:\n        pass",
]


class Counting:
    """A pool that answers like an evaluator would (running the script here) and counts the calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.sandbox = Sandbox(limits=LIMITS)

    def call(self, request: dict[str, Any], seconds: float) -> dict[str, Any]:
        self.calls += 1
        data = wire.decode(request["data"])
        try:
            self.sandbox.execute(request["source"], data, wire.decode(request["external"]))
        except ScriptFailed as err:
            return {"id": request["id"], "ok": False, "error": {"type": "ScriptFailed", "what": err.what}}
        return {"id": request["id"], "ok": True, "data": wire.encode(data)}


def _scripts(here: bool = True) -> tuple[IsolatedScripts, Counting]:
    pool = Counting()
    return IsolatedScripts(Sandbox(limits=LIMITS), pool=pool, straight_line_here=here), pool  # type: ignore[arg-type]


@pytest.mark.parametrize("source", STRAIGHT)
def test_straight_line_is_decided_once_per_text(source: str) -> None:
    assert compile_code(source, "script", LIMITS).straight_line


@pytest.mark.parametrize("source", NOT_STRAIGHT)
def test_loops_functions_and_walrus_are_not_straight_line(source: str) -> None:
    assert not compile_code(source, "script", LIMITS).straight_line


def _data() -> dict[str, Any]:
    return {"amount": 3, "lines": [{"amount": "1.50"}, {"amount": "2"}], "votes": [{"decision": "approve"}],
            "untouched": {"a": [1]}}


@pytest.mark.parametrize("source", STRAIGHT)
def test_a_straight_line_script_runs_without_an_evaluator_and_leaves_what_an_evaluator_leaves(source: str) -> None:
    here, pool = _scripts()
    there, evaluator = _scripts(here=False)
    in_process, in_evaluator = _data(), _data()
    here.execute(source, in_process)
    there.execute(source, in_evaluator)
    assert pool.calls == 0, "the straight-line script reached the evaluator"
    assert evaluator.calls == 1  # control: the same script, routed to the evaluator, is seen there
    assert in_process == in_evaluator


@pytest.mark.parametrize("source", NOT_STRAIGHT[:3])
def test_a_script_with_a_loop_or_function_still_goes_to_an_evaluator(source: str) -> None:
    scripts, pool = _scripts()
    scripts.execute(source, _data())
    assert pool.calls == 1


def test_a_failing_script_changes_nothing_and_shared_values_stay_untouched() -> None:
    scripts, pool = _scripts()
    data = {**_data(), "missing_map": {}}
    lines, first = data["lines"], data["lines"][0]
    with pytest.raises(ScriptFailed, match="KeyError"):
        scripts.execute("amount = 99\nlines[0]['amount'] = '7'\nlines.append(1)\nx = missing_map['k']", data)
    assert data == {**_data(), "missing_map": {}} and data["lines"] is lines and first == {"amount": "1.50"}
    scripts.execute("lines[0]['amount'] = '7'\ntotal = Decimal(lines[0]['amount'])", data)
    assert first == {"amount": "1.50"}, "another task's data shares this dict: the script worked on a copy"
    assert data["lines"][0] == {"amount": "7"} and data["total"] == Decimal("7")
    assert pool.calls == 0
