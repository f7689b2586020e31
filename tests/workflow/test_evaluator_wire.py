"""What crosses the pipe to a script evaluator: tagged JSON both ways, and nothing unchecked comes back."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from engine.workflow.scripts import evaluator_wire as wire
from engine.workflow.scripts.errors import ScriptFailed, ScriptLimitExceeded, ScriptTimeout
from engine.workflow.scripts.isolation import IsolatedScripts
from engine.workflow.scripts.sandbox import Sandbox
from tests.workflow.sandbox_support import LIMITS

TASK_DATA = {
    "total": Decimal("1500.50"), "submitted": date(2024, 1, 31), "at": datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
    "naive": datetime(2024, 3, 1, 9, 30), "sla": timedelta(days=2, seconds=5, microseconds=7),
    "id": UUID("12345678-1234-5678-1234-567812345678"), "pair": (1, "a"), "big": 2**200, "negative": -(2**70),
    "lines": [{"amount": "1.5", "nested": [None, True, 1.25]}], "\u0000odd": {"\u0000": "a key like the tag"},
    "text": "中文 \u2028 \n",
}


def test_task_data_survives_the_round_trip_with_its_types():
    back = wire.decode(wire.loads(wire.dumps({"data": wire.encode(TASK_DATA)}))["data"])
    assert back == TASK_DATA
    assert {k: type(v) for k, v in back.items()} == {k: type(v) for k, v in TASK_DATA.items()}
    assert back["at"].tzinfo is UTC


@pytest.mark.parametrize("hostile", [
    {wire.TAG: "pickle", "v": pickle.dumps(1).hex()},
    {wire.TAG: "dec", "v": "1" * 5000},
    {wire.TAG: "int", "v": "f" * 9000},
    {wire.TAG: "int", "v": "0x1f"},
    {wire.TAG: "date", "v": "not a date"},
    {wire.TAG: "td", "v": [10**10, 0, 0]},
    {wire.TAG: "td", "v": ["1", 0, 0]},
    {wire.TAG: "dict", "v": [[1, 2]]},
    {wire.TAG: "tuple", "v": "abc"},
    {wire.TAG: "dec", "v": "1", "extra": 1},
    {wire.TAG: ["dec"], "v": "1"},
    ["nested too deep"],
])
def test_hostile_replies_are_refused(hostile: Any):
    if hostile == ["nested too deep"]:
        for _ in range(wire.MAX_DEPTH + 1):
            hostile = [hostile]
    with pytest.raises(wire.WireError):
        wire.decode(hostile)


def test_lines_that_are_not_json_are_refused():
    for line in (pickle.dumps({"ok": True}), b"[" * 100_000 + b"\n", b'{"ok": 1' + b"9" * 5000 + b"}\n"):
        with pytest.raises(wire.WireError):
            wire.loads(line)


def test_values_that_are_not_task_data_are_not_sent():
    for value in ({1, 2}, len, {1: "a"}, object()):
        with pytest.raises(wire.Unencodable):
            wire.encode({"x": value})


class FakePool:
    """Answers every request with ``reply`` (what a broken or compromised evaluator might send)."""

    def __init__(self, reply: dict[str, Any]):
        self.reply = reply

    def call(self, request: dict[str, Any], seconds: float) -> dict[str, Any]:
        return {"id": request["id"], **self.reply}


@pytest.mark.parametrize(("reply", "error", "message"), [
    ({"ok": True, "data": {"x": 1, "injected": "boo"}}, ScriptFailed, "variables the script does not assign"),
    ({"ok": True, "data": {"x": {wire.TAG: "code", "v": "os.system"}}}, ScriptFailed, "invalid task data"),
    ({"ok": True, "data": {"x": 2**16000}}, ScriptLimitExceeded, "variable 'x' holds an int"),
    ({"ok": True, "data": {"x": ["a" * 900_000] * 3}}, ScriptLimitExceeded, "task data would hold more"),
    ({"ok": False, "error": {"type": "SystemExit", "what": "x" * 5000}}, ScriptFailed, "x" * 1000),
    ({"ok": False, "error": {"type": "ScriptTimeout", "what": "slow", "lineno": 99}}, ScriptTimeout, "slow"),
])
def test_what_the_evaluator_sends_back_is_checked(reply: dict[str, Any], error: type[Any], message: str):
    scripts = IsolatedScripts(Sandbox(limits=LIMITS), pool=FakePool(reply),  # type: ignore[arg-type]
                              straight_line_here=False)
    data = {"amount": 1}
    with pytest.raises(error, match=message) as caught:
        scripts.execute("x = amount + 1", data)
    assert data == {"amount": 1}, "nothing the evaluator said was stored"
    assert caught.value.lineno is None and caught.value.kind == "script"


def test_only_the_task_data_a_script_names_is_sent():
    sent: list[dict[str, Any]] = []

    class Recording(FakePool):
        def call(self, request: dict[str, Any], seconds: float) -> dict[str, Any]:
            sent.append(wire.decode(request["data"]))
            return {"id": request["id"], "ok": True, "data": wire.encode({"x": 2, "amount": 1})}

    scripts = IsolatedScripts(Sandbox(limits=LIMITS), pool=Recording({}),  # type: ignore[arg-type]
                              straight_line_here=False)
    unrelated = {"nested": [1, 2]}
    data = {"amount": 1, "unrelated": unrelated, "lines": []}
    scripts.execute("x = amount + 1", data)
    assert sent == [{"amount": 1}]
    assert data == {"amount": 1, "unrelated": unrelated, "lines": [], "x": 2} and data["unrelated"] is unrelated


def test_extra_globals_must_be_importable_to_reach_the_evaluator():
    with pytest.raises(ValueError, match="module-level function"):
        IsolatedScripts(Sandbox({"f": lambda: 1}, LIMITS), {"f": lambda: 1})
    from engine.workflow.scripts.helpers import round_money
    assert IsolatedScripts(Sandbox({"rm": round_money}, LIMITS), {"rm": round_money}).extras == {
        "rm": "engine.workflow.scripts.helpers:round_money"}
