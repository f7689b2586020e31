"""The engine's own task-tree walks (engine_workflow.py, task_walk.py) behave exactly as SpiffWorkflow's.

Every path below runs twice, on the library's BpmnWorkflow and on EngineWorkflow, and must complete the
same tasks in the same order with the same data; at every wait state the walk must list the same tasks
in the same order as the library's iterators, for every state filter.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskIterator, TaskState

from engine.bench.lifecycle import InstantOperators
from engine.workflow import bundle as bundles
from engine.workflow import runtime, task_walk
from engine.workflow import serializer as serializer_module
from engine.workflow.engine_task import EngineTask, inherited
from engine.workflow.engine_workflow import EngineSubWorkflow, EngineWorkflow
from engine.workflow.ports import OperatorCall
from engine.workflow.runtime import WorkflowRun
from engine.workflow.serializer import FULL, STATE
from engine.workflow.service_tasks import new_script_engine

START = {"currency": "CNY", "period": "2026", "applicant": "E0017", "org_unit": "SALES-N", "countersigners": []}
APPLY = {"subject": "TRAVEL", "purpose": "walks", "amount": "1200.00", "currency": "CNY", "period": "2026"}
BIG = {**APPLY, "amount": "90000.00"}
APPROVE = {"decision": "approve", "comment": "ok"}
REJECT = {"decision": "reject", "comment": "no"}
SEND_BACK = {"decision": "send_back", "comment": "fix"}
CLAIM = {"subject": "TRAVEL", "purpose": "walks", "currency": "CNY", "period": "2026",
         "lines": [{"subject": "TRAVEL", "amount": "1100.00", "tax": "0.00", "invoice_code": "0110",
                    "invoice_number": "1"}]}
# (process, extra start data, the forms given to each user task in turn)
PATHS = {
    "application approved": ("travel_application", {}, [APPLY, APPROVE]),
    "application rejected": ("travel_application", {}, [APPLY, REJECT]),
    "application sent back twice": ("travel_application", {}, [APPLY, SEND_BACK, APPLY, SEND_BACK, APPLY, APPROVE]),
    "application over the department head's limit": ("travel_application", {}, [BIG] + [APPROVE] * 4),
    "application with countersigners": ("travel_application", {"countersigners": ["E0001", "E0002"]},
                                        [APPLY] + [APPROVE] * 4),
    "claim linked and approved": ("expense_claim", {"application_no": "TA-1", "reservation_id": 1},
                                  [CLAIM, APPROVE]),
    "claim on its own, rejected": ("expense_claim", {}, [CLAIM, REJECT]),
}
# The bench's instant answers, except that the claim books a reservation of its own and goes over budget.
RESULTS: dict[str, dict[str, Any]] = {
    **InstantOperators.RESULTS,
    "budget/ReserveClaim": {"reservation_id": 2, "over_budget": True, "available_after": "0"},
}


class Operators:
    def call(self, call: OperatorCall) -> dict[str, Any]:
        return dict(RESULTS[call.operator])


@cache
def _bundle() -> bundles.Bundle:
    bundle = bundles.parse(bundles.read_folder(Path(__file__).resolve().parents[2] / "bpmn"))
    bundles.remember(bundle)  # STATE loads specs from the bundle cache
    return bundle


def _all_tasks(wf: Any) -> Iterator[Any]:
    yield from wf.tasks.values()
    for sp in wf.subprocesses.values():
        yield from sp.tasks.values()


def _same_answers_as_the_library(wf: Any) -> int:
    """Every (sub)workflow's get_tasks, for each filter the engine uses, equals the library's iterator's."""
    compared = 0
    for workflow in [wf, *wf.subprocesses.values()]:
        for mask in (TaskState.READY, TaskState.WAITING, TaskState.NOT_FINISHED_MASK):
            for manual in (None, True, False):
                library = list(BpmnTaskIterator(workflow.task_tree, state=mask, manual=manual))
                assert workflow.get_tasks(state=mask, manual=manual) == library
                compared += 1
        library_done = next(TaskIterator(workflow.task_tree, state=TaskState.NOT_FINISHED_MASK), None) is None
        assert workflow.is_completed() == (workflow.completed or library_done)
    return compared


def _trace(path: str, snapshots: list[Any] | None = None, check_each_step: bool = False) -> list[Any]:
    """The path's completed tasks in order (element, state, data), and the final status and data."""
    process_id, extra, forms = PATHS[path]
    run = WorkflowRun.start(_bundle(), process_id, {**START, "document_no": "D-1", **extra}, new_script_engine())
    steps: list[Any] = []

    def record(event: runtime.StepEvent) -> None:
        task = run.wf.get_task_from_id(UUID(event.task_guid))
        steps.append((event.bpmn_id, event.state, json.dumps(task.data, sort_keys=True, default=str)))
        if check_each_step and isinstance(run.wf, EngineWorkflow):
            _same_answers_as_the_library(run.wf)

    for form in [*forms, None]:
        run.advance(Operators(), on_step=record)
        if snapshots is not None:
            snapshots.append(run.wf)
        if form is None or not run.ready_tasks():
            break
        ready = run.ready_tasks()[0]
        steps.append(("user", ready.bpmn_id, json.dumps(run.task_data(ready.task_guid), sort_keys=True, default=str)))
        run.complete(ready.task_guid, form)
    steps.append(("end", run.status(), json.dumps(run.data, sort_keys=True, default=str)))
    return steps


@pytest.mark.parametrize("path", sorted(PATHS))
def test_the_same_tasks_complete_in_the_same_order_with_the_same_data(path: str, monkeypatch: Any) -> None:
    after = _trace(path, check_each_step=True)  # and, after every step, the same answers to each query
    monkeypatch.setattr(runtime, "EngineWorkflow", BpmnWorkflow)  # the library's own walks: main's behaviour
    before = _trace(path)
    assert after == before
    assert len(after) > 10


def _library(first: Any, state: int, bpmn: bool) -> list[Any]:
    iterator = BpmnTaskIterator(first, state=state) if bpmn else TaskIterator(first, state=state)
    return list(iterator)


MASKS = [TaskState.READY, TaskState.WAITING, TaskState.NOT_FINISHED_MASK, TaskState.ANY_MASK, TaskState.COMPLETED,
         TaskState.FINISHED_MASK, TaskState.PREDICTED_MASK, TaskState.READY | TaskState.STARTED, TaskState.MAYBE]


@pytest.mark.parametrize("path", sorted(PATHS))
def test_the_walk_lists_what_the_library_lists_at_every_wait_state(path: str) -> None:
    snapshots: list[Any] = []
    _trace(path, snapshots)
    compared = 0
    for wf in snapshots:
        roots = [wf.task_tree] + [sp.task_tree for sp in wf.subprocesses.values()]
        for root in roots:
            for mask in MASKS:
                assert list(task_walk.walk(root, state=mask, subprocesses=wf.subprocesses)) == \
                    _library(root, mask, bpmn=True)
                assert list(task_walk.walk(root, state=mask)) == _library(root, mask, bpmn=False)
                compared += 1
        assert wf.get_tasks(state=TaskState.READY, manual=True) == \
            list(BpmnTaskIterator(wf.task_tree, state=TaskState.READY, manual=True))
    assert compared > 50


def test_control_a_walk_in_another_order_is_caught() -> None:
    snapshots: list[Any] = []
    _trace("application with countersigners", snapshots)
    wf = snapshots[-2]
    library = _library(wf.task_tree, TaskState.ANY_MASK, bpmn=True)
    breadth_first = list(BpmnTaskIterator(wf.task_tree, state=TaskState.ANY_MASK, depth_first=False))
    assert sorted(map(id, breadth_first)) == sorted(map(id, library))
    assert breadth_first != library  # the same tasks in another order fail the comparison above


def test_runs_use_the_engine_classes_and_large_trees_take_the_library_walk() -> None:
    snapshots: list[Any] = []
    _trace("application with countersigners", snapshots)
    wf = snapshots[1]
    assert type(wf) is EngineWorkflow
    assert wf.subprocesses and all(type(sp) is EngineSubWorkflow for sp in wf.subprocesses.values())
    assert task_walk.fits(wf)
    padding = {object(): None for _ in range(task_walk.MAX_DEPTH)}
    wf.tasks.update(padding)  # a workflow of 1,000+ tasks: the library's depth limit could prune
    try:
        assert not task_walk.fits(wf)
        assert type(wf.get_tasks_iterator(state=TaskState.READY)) is BpmnTaskIterator
    finally:
        for key in padding:
            del wf.tasks[key]


def _main_serializer(specless: bool) -> Any:
    """The serializer as main configured it: the library's classes only."""
    config = serializer_module._config(specless)
    del config[EngineWorkflow], config[EngineSubWorkflow]
    return BpmnWorkflowSerializer(serializer_module._registry(config))


@pytest.mark.parametrize("specless", [True, False], ids=["state", "full"])
def test_states_load_both_ways_and_keep_the_stock_type_names(specless: bool, monkeypatch: Any) -> None:
    ours, main = (STATE, _main_serializer(True)) if specless else (FULL, _main_serializer(False))
    snapshots: list[Any] = []
    _trace("application with countersigners", snapshots)
    wf = snapshots[1]
    text = ours.serialize_json(wf)
    dumped = json.loads(text)
    assert dumped["typename"] == "BpmnWorkflow"
    assert {sp["typename"] for sp in dumped["subprocesses"].values()} == {"BpmnSubWorkflow"}
    loaded = ours.deserialize_json(text)
    assert type(loaded) is EngineWorkflow
    assert all(type(sp) is EngineSubWorkflow for sp in loaded.subprocesses.values())
    assert ours.serialize_json(loaded) == text
    assert type(main.deserialize_json(text)) is BpmnWorkflow  # main's code loads what we save
    assert main.serialize_json(main.deserialize_json(text)) == text

    monkeypatch.setattr(runtime, "EngineWorkflow", BpmnWorkflow)  # what main saved loads as ours
    snapshots = []
    _trace("application with countersigners", snapshots)
    text = main.serialize_json(snapshots[1])
    assert type(ours.deserialize_json(text)) is EngineWorkflow
    assert ours.serialize_json(ours.deserialize_json(text)) == text


def test_every_task_is_an_engine_task_after_start_and_after_load() -> None:
    snapshots: list[Any] = []
    _trace("application with countersigners", snapshots)
    wf = snapshots[1]
    assert {type(t) for t in _all_tasks(wf)} == {EngineTask}
    loaded = STATE.deserialize_json(STATE.serialize_json(wf))
    assert {type(t) for t in _all_tasks(loaded)} == {EngineTask}
    assert json.loads(STATE.serialize_json(wf))["tasks"][str(wf.task_tree.id)]["typename"] == "Task"


def test_inherited_is_the_library_merge_into_an_empty_dict() -> None:
    shared = {"deep": [1, {"x": 2}]}
    parent = {"n": 1, "s": "t", "d": shared, "l": [shared, 2], "set": {1, 2}, "t": (1, [2]), "none": None}
    ours, library = inherited(parent), DeepMerge.merge({}, parent)
    assert ours == library
    for key in parent:  # the same values copied (first level only) and the same values shared
        assert (ours[key] is parent[key]) == (library[key] is parent[key]), key
        if isinstance(parent[key], (dict, list)):
            assert all(a is b for a, b in zip(ours[key], library[key], strict=True)), key


def test_state_changes_log_as_the_library_does_when_its_logger_is_enabled(caplog: pytest.LogCaptureFixture) -> None:
    run = WorkflowRun.start(_bundle(), "travel_application", {**START, "document_no": "D-1"}, new_script_engine())
    run.advance(Operators())
    ready = run.ready_tasks()[0]
    with caplog.at_level(logging.INFO, logger="spiff.task"):
        run.complete(ready.task_guid, APPLY)
    changes = [r for r in caplog.records if r.name == "spiff.task" and r.getMessage().startswith("State changed")]
    assert changes and all(hasattr(r, "task_spec") and hasattr(r, "elapsed") for r in changes)
    caplog.clear()
    run.advance(Operators())  # back at WARNING: nothing built, nothing logged
    assert not [r for r in caplog.records if r.name == "spiff.task"]


def test_a_single_candidate_is_found_exactly_where_the_library_walk_reaches_it() -> None:
    """Each task in turn made the only READY one (predicted parents, subprocess roots, finished branches):
    the scan's reachability check must agree with the library's walk for every position."""
    snapshots: list[Any] = []
    _trace("application with countersigners", snapshots)
    reached = missed = 0
    for wf in snapshots:
        found, lost = _each_task_alone_ready(wf)
        reached, missed = reached + found, missed + lost
    assert reached > 50 and missed > 50  # both answers were exercised


def _each_task_alone_ready(wf: Any) -> tuple[int, int]:
    tasks = list(_all_tasks(wf))
    saved = {task: task._state for task in tasks}
    reached = missed = 0
    try:
        for task in tasks:
            if task._state == TaskState.READY:
                task._state = TaskState.FUTURE
        for task in tasks:
            before, task._state = task._state, TaskState.READY
            for workflow in [wf, *wf.subprocesses.values()]:
                library = list(BpmnTaskIterator(workflow.task_tree, state=TaskState.READY))
                assert workflow.get_tasks(state=TaskState.READY) == library, task
                assert task_walk.find(workflow.task_tree, TaskState.READY) == \
                    list(TaskIterator(workflow.task_tree, state=TaskState.READY))
                reached, missed = reached + bool(library), missed + (not library)
            task._state = before
    finally:
        for task, state in saved.items():
            task._state = state
    return reached, missed


def test_control_a_scan_that_skips_the_reachability_check_is_caught(monkeypatch: Any) -> None:
    snapshots: list[Any] = []
    _trace("application with countersigners", snapshots)
    monkeypatch.setattr(task_walk, "_reachable", lambda *args: True)
    with pytest.raises(AssertionError):
        for wf in snapshots:
            _each_task_alone_ready(wf)
