"""The state the engine saves is the one SpiffWorkflow 3.2.0's own converters write, to the character.

engine/workflow/task_dicts.py builds the task dicts of a save in one pass instead of through the library's
registry. On every path of the shipped diagrams (the paths of test_stock_equivalence.py), after every engine
pass, the saved JSON is compared with what the library's converters write for the same workflow.

Negative control: a task_dicts that leaves one field out, or orders children differently, fails it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
)

from engine.workflow import serializer, task_dicts
from engine.workflow.engine_task import EngineTask
from engine.workflow.engine_workflow import EngineSubWorkflow, EngineWorkflow
from engine.workflow.runtime import WorkflowRun
from engine.workflow.service_tasks import new_script_engine
from tests.workflow.stock_paths import drive, explore
from tests.workflow.test_stock_equivalence import BUNDLE, ERRORS, stock_start


class _LibraryWorkflow(serializer.SpeclessWorkflowConverter):
    """The spec key as the engine writes it, everything else by the library's WorkflowConverter."""

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        dct: dict[str, Any] = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct.update(spec_key=workflow.spec_key, subprocesses=self.mapping_to_dict(workflow.subprocesses),
                   bpmn_events=self.registry.convert(workflow.bpmn_events))
        return dct


def _library_serializer() -> BpmnWorkflowSerializer:
    config = serializer._config(specless=True)
    config[EngineTask] = serializer._stock_name(TaskConverter, "Task")
    config[EngineWorkflow] = serializer._stock_name(_LibraryWorkflow, "BpmnWorkflow")
    config[EngineSubWorkflow] = serializer._stock_name(BpmnSubWorkflowConverter, "BpmnSubWorkflow")
    return BpmnWorkflowSerializer(serializer._registry(config))


LIBRARY = _library_serializer()


class CheckedRun(WorkflowRun):
    """A WorkflowRun that compares its save with the library's after every pass; counts the saves compared."""

    compared = 0

    def advance(self, operators: Any) -> None:
        super().advance(operators)
        mine, library = serializer.STATE.serialize_json(self.wf), LIBRARY.serialize_json(self.wf)
        if mine != library:
            raise AssertionError(_first_difference(json.loads(mine), json.loads(library)))
        CheckedRun.compared += 1


def _first_difference(mine: Any, library: Any, where: str = "state") -> str:
    if isinstance(mine, dict) and isinstance(library, dict):
        if list(mine) != list(library):
            return f"{where}: keys {list(mine)} here, {list(library)} in the library's"
        for key in mine:
            if mine[key] != library[key]:
                return _first_difference(mine[key], library[key], f"{where}.{key}")
    return f"{where}: {mine!r} here, {library!r} in the library's"


def checked_start(process_id: str, data: dict[str, Any]) -> CheckedRun:
    run = CheckedRun.start(BUNDLE, process_id, data, new_script_engine())
    assert isinstance(run, CheckedRun)
    return run


@pytest.mark.slow
def test_every_save_on_every_path_is_the_library_s_own():
    paths = explore(stock_start, ERRORS)
    assert len(paths) > 100
    CheckedRun.compared = 0
    for path in paths:
        drive(checked_start, path.process_id, path.script, ERRORS)
    assert CheckedRun.compared > 1000  # today 1,374 saves, call activities' subworkflows among them


def _without(field: str) -> Callable[..., dict[str, Any]]:
    real = task_dicts._task_dict

    def task_dict(*args: Any) -> dict[str, Any]:
        found = real(*args)
        found.pop(field)
        return found

    return task_dict


@pytest.mark.parametrize(("field", "caught"), [("triggered", "keys"), ("last_state_change", "keys")])
def test_a_save_that_leaves_a_field_out_fails_the_comparison(monkeypatch, field, caught):
    monkeypatch.setattr(task_dicts, "_task_dict", _without(field))
    with pytest.raises(AssertionError, match=caught):
        drive(checked_start, "expense_claim", (), ERRORS)


def test_a_save_with_children_out_of_order_fails_the_comparison(monkeypatch):
    real = task_dicts._task_dict

    def reordered(*args: Any) -> dict[str, Any]:
        found = real(*args)
        found["children"] = found["children"][::-1]
        return found

    monkeypatch.setattr(task_dicts, "_task_dict", reordered)
    with pytest.raises(AssertionError, match=r"\.children"):
        drive(checked_start, "expense_claim", (), ERRORS)
