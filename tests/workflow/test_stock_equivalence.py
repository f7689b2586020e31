"""Every path of the shipped diagrams runs alike on stock SpiffWorkflow and on the project's engine.

Stock (engine/workflow/stock.py: the library's parser, spec classes and PythonScriptEngine) is the
reference of issue 13; the project's engine (WorkflowRun with new_script_engine(): its own service task,
clocked timers and sandbox) may grow faster, but never drift from it, not even after an upgrade of
SpiffWorkflow. Both run in memory, operators answering from the path's script (stock_paths.py says how
the paths are generated from the diagrams and which choices they make).

On each path both engines must show the same choice points with the same options, the same operator
parameters, the same data in every user task acted on, the same completed tasks in the same order
(subprocesses included), the same status and the same final data. Nothing is normalised: nothing
differs (``amount_value`` is a Decimal on both, service results are JSON on both). Timers are fired
by moving their due time into the past on both sides (``stock_paths.make_timer_due`` says why that
is identical).

Negative controls: the coverage check, fed only the default paths, names the flows they never take;
a project engine whose script or expression results are tampered with fails the comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connectors.base import ConnectorError
from engine.bench.lifecycle import BPMN
from engine.workflow import bundle as bundles
from engine.workflow.ports import OperatorCall
from engine.workflow.runtime import WorkflowRun
from engine.workflow.service_tasks import DispatchingScriptEngine, new_script_engine
from engine.workflow.stock import StockDiagrams, StockRun
from tests.workflow.stock_paths import PROCESSES, START, DrivenPath, Outcome, caught_errors, drive, explore

DIAGRAMS = StockDiagrams.read(BPMN)
BUNDLE = bundles.parse(bundles.read_folder(BPMN))
ERRORS = caught_errors(DIAGRAMS)


def stock_start(process_id: str, data: dict[str, Any]) -> StockRun:
    return StockRun.start(DIAGRAMS, process_id, data)


def project_start(process_id: str, data: dict[str, Any],
                  tamper: Callable[[DispatchingScriptEngine], None] = lambda _engine: None) -> WorkflowRun:
    engine = new_script_engine()
    tamper(engine)
    return WorkflowRun.start(BUNDLE, process_id, data, engine)


@pytest.fixture(scope="module")
def paths() -> list[DrivenPath]:
    return explore(stock_start, ERRORS)


def describe(process_id: str, outcome: Outcome) -> str:
    """The path by its non-default choices, e.g. ``expense_claim: start:reservation=linked, ...``."""
    chosen = [f"{s.point}={s.options[s.taken]}" for s in outcome.steps if s.taken]
    return f"{process_id}: {', '.join(chosen) or 'the default path'}"


def assert_alike(process_id: str, stock: Outcome, project: Outcome) -> None:
    where = describe(process_id, stock)
    for n, (mine, theirs) in enumerate(zip(stock.steps, project.steps, strict=False)):
        assert mine == theirs, f"{where}: choice point {n} differs\n stock:   {mine}\n project: {theirs}"
    assert len(stock.steps) == len(project.steps), f"{where}: {len(stock.steps)} choice points on stock, " \
                                                   f"{len(project.steps)} on the project's engine"
    assert stock.completed == project.completed, \
        f"{where}: completed tasks differ\n stock:   {stock.completed}\n project: {project.completed}"
    assert stock.status == project.status, f"{where}: status {stock.status} on stock, {project.status} on ours"
    differing = sorted(k for k in stock.data.keys() | project.data.keys() if stock.data.get(k, ...) !=
                       project.data.get(k, ...))
    assert not differing, f"{where}: final data differ in " + ", ".join(
        f"{k} (stock {stock.data.get(k, '<absent>')!r}, project {project.data.get(k, '<absent>')!r})"
        for k in differing)


def untaken_flows(driven: list[DrivenPath]) -> list[str]:
    """Sequence flows of the diagrams (and the processes they call) that no driven path took."""
    flows: dict[str, tuple[str, str, str]] = {}
    for process_id in PROCESSES:
        flows.update(DIAGRAMS.sequence_flows(process_id))
    taken = set().union(*(path.reference.flows for path in driven))
    return sorted(flow for flow, step in flows.items() if step not in taken)


@pytest.mark.slow
def test_every_path_runs_alike_on_stock_and_on_the_project_engine(paths):
    assert len(paths) > 100  # the search did search (today 235 paths)
    for path in paths:
        project = drive(project_start, path.process_id, path.script, ERRORS)
        assert_alike(path.process_id, path.reference, project)


@pytest.mark.slow
def test_the_paths_take_every_sequence_flow_of_both_diagrams(paths):
    missing = untaken_flows(paths)
    assert not missing, f"no path takes these sequence flows: {missing}"
    assert {p.reference.data.get("outcome") for p in paths} >= {"approved", "posted", "rejected", "withdrawn",
                                                                 "budget_refused"}


def test_the_coverage_check_names_the_flows_the_default_paths_never_take():
    """Negative control: fed only the default path of each diagram, the check above fails, naming flows."""
    default_only = explore(stock_start, ERRORS, deviations=0)
    assert len(default_only) == len(PROCESSES)
    missing = untaken_flows(default_only)
    assert {"flow_on_withdraw_to_set_withdrawn", "flow_on_duplicate_invoice_to_note_duplicate_invoice",
            "flow_remind_manager_to_send_manager_reminder", "flow_escalate_countersign_to_hand_countersign_"
            "to_finance_director"} <= set(missing)


def _tampered_script_result(engine: DispatchingScriptEngine) -> None:
    real = engine.execute

    def execute(task: Any, script: str, external_context: dict[str, Any] | None = None) -> Any:
        done = real(task, script, external_context)
        if task.data.get("outcome") == "approved":
            task.data["outcome"] = "approved (says who)"
        return done

    engine.execute = execute  # type: ignore[method-assign]


def _tampered_condition(engine: DispatchingScriptEngine) -> None:
    real = engine.evaluate

    def evaluate(task: Any, expression: str, external_context: dict[str, Any] | None = None) -> Any:
        result = real(task, expression, external_context)
        return not result if expression.strip() == "need_department_head" else result

    engine.evaluate = evaluate  # type: ignore[method-assign]


@pytest.mark.parametrize(("tamper", "caught"), [(_tampered_script_result, r"approved \(says who\)"),
                                                (_tampered_condition, "wait:approve_by_department_head")])
def test_a_tampered_project_engine_fails_the_comparison(tamper, caught):
    """Negative control: a script result or a gateway condition changed on the project's side is caught."""
    stock = drive(stock_start, "travel_application", (), ERRORS)
    project = drive(lambda pid, data: project_start(pid, data, tamper), "travel_application", (), ERRORS)
    with pytest.raises(AssertionError, match=caught):
        assert_alike("travel_application", stock, project)


def test_the_reference_is_stock_spiffworkflow():
    """Every task spec and event definition of the reference is the library's own class, its script
    engine is PythonScriptEngine itself, and its environment adds call_service and nothing else."""
    for spec, subprocess_specs in DIAGRAMS.processes.values():
        for process in (spec, *subprocess_specs.values()):
            for task_spec in process.task_specs.values():
                assert type(task_spec).__module__.startswith("SpiffWorkflow."), task_spec
                definition = getattr(task_spec, "event_definition", None)
                assert definition is None or type(definition).__module__.startswith("SpiffWorkflow."), definition
    run = stock_start("travel_application", {})
    engine, environment = run.wf.script_engine, run.environment
    assert type(engine).__module__.startswith("SpiffWorkflow.") and engine.environment is environment
    added = {name for cls in type(environment).__mro__ if not cls.__module__.startswith("SpiffWorkflow.")
             and cls is not object for name in vars(cls) if not name.startswith("__")}
    assert added == {"call_service"}


class _Refusing:
    def call(self, call: OperatorCall) -> dict[str, Any]:
        raise ConnectorError("NOBODY_CATCHES_THIS", f"{call.operator} refused")


def test_an_operator_error_no_boundary_event_catches_stops_the_stock_run():
    run = stock_start("travel_application", {**START, "countersigners": [], "document_no": "TA-1"})
    run.advance(_Refusing())
    run.complete(run.ready_tasks()[0].task_guid, {"subject": "TRAVEL", "amount": "10.00"})
    with pytest.raises(Exception) as raised:  # noqa: PT011 - stock 3.2.0 wraps it in a NameError of its own
        run.advance(_Refusing())
    behind: BaseException | None = raised.value
    while behind is not None and not isinstance(behind, ConnectorError):
        behind = behind.__cause__ or behind.__context__
    assert behind is not None and behind.code == "NOBODY_CATCHES_THIS"
    assert run.status() != "complete"
