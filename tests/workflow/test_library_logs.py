"""SpiffWorkflow's loggers stay at WARNING: no debug details built per step, warnings still reported."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

import engine.workflow  # noqa: F401 - the import sets the levels
from engine.workflow import bundle as bundles
from engine.workflow.library_logs import SPIFF_LOGGERS, library_defaults, quiet_library_logs
from engine.workflow.runtime import WorkflowRun
from engine.workflow.service_tasks import new_script_engine


def _details_built(workflow: BpmnWorkflow) -> bool:
    """Whether SpiffWorkflow would add the task data to a record (the costly part) for this workflow."""
    return "data" in workflow.task_tree.collect_log_extras()


def test_spiff_loggers_are_at_warning_after_import() -> None:
    for name in SPIFF_LOGGERS:
        assert logging.getLogger(name).level == logging.WARNING, name


def test_basic_config_does_not_reset_them() -> None:
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    try:
        logging.basicConfig(level=logging.DEBUG, force=True)
        assert logging.getLogger("spiff.task").level == logging.WARNING
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)


def test_no_details_are_built_and_warnings_still_pass(caplog: pytest.LogCaptureFixture) -> None:
    run = WorkflowRun.start(_bundle(), "travel_application", {"currency": "CNY", "period": "2026"}, new_script_engine())
    assert not _details_built(run.wf)
    with caplog.at_level(logging.WARNING, logger="spiff.task"):
        logging.getLogger("spiff.task").warning("a library warning")
    assert "a library warning" in caplog.text


def test_control_at_level_zero_the_details_are_built() -> None:
    run = WorkflowRun.start(_bundle(), "travel_application", {"currency": "CNY", "period": "2026"}, new_script_engine())
    try:
        quiet_library_logs(logging.NOTSET)
        assert _details_built(run.wf)  # what every state change paid before
    finally:
        quiet_library_logs()
    assert not _details_built(run.wf)


def test_library_defaults_gives_stock_its_level_zero_loggers_for_a_while() -> None:
    run = WorkflowRun.start(_bundle(), "travel_application", {"currency": "CNY", "period": "2026"},
                            new_script_engine())
    with library_defaults():
        assert all(logging.getLogger(name).level == logging.NOTSET for name in SPIFF_LOGGERS)
        assert _details_built(run.wf)
    assert all(logging.getLogger(name).level == logging.WARNING for name in SPIFF_LOGGERS)
    assert not _details_built(run.wf)


@cache
def _bundle() -> bundles.Bundle:
    return bundles.parse(bundles.read_folder(Path(__file__).resolve().parents[2] / "bpmn"))
