"""The script engine every workflow run gets (restricted environment; see docs/scripts.md)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment

from engine.workflow.service_tasks import DispatchingScriptEngine


def new_script_engine() -> DispatchingScriptEngine:
    # Placeholder until the restricted environment lands (engine/workflow/script_engine.py).
    env = TaskDataEnvironment({"Decimal": Decimal, "date": date, "datetime": datetime, "timedelta": timedelta})
    return DispatchingScriptEngine(environment=env)
