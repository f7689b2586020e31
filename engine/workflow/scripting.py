"""The script engine every workflow run gets: the sandbox (docs/scripts.md) carrying the operator port."""

from __future__ import annotations

from engine.workflow.script_engine import make_script_engine
from engine.workflow.service_tasks import DispatchingScriptEngine


def new_script_engine() -> DispatchingScriptEngine:
    engine = make_script_engine(engine_class=DispatchingScriptEngine)
    assert isinstance(engine, DispatchingScriptEngine)
    return engine
