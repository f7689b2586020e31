"""The sandbox wired into SpiffWorkflow: its task-data environment and script engine, sandboxed.

Expressions and straight-line scripts run in-process through ``Sandbox``; other scripts run in an
evaluator process (``isolation.py``) unless configured otherwise. See docs/scripts.md for what diagram code may do.
"""

from __future__ import annotations

import ast
import functools
import threading
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.workflow.scripts.errors import ScriptError, describe_exception
from engine.workflow.scripts.evaluator_pool import configured_size
from engine.workflow.scripts.isolation import IsolatedScripts
from engine.workflow.scripts.limits import SandboxLimits
from engine.workflow.scripts.sandbox import Sandbox

_shared: dict[SandboxLimits | None, Sandbox] = {}
_shared_lock = threading.Lock()


def shared_sandbox(limits: SandboxLimits | None) -> Sandbox:
    """One Sandbox per set of limits for engines without extra globals: every workflow run gets a script
    engine, and a new Sandbox would build its namespaces (guarded types) and fill its compile cache again.
    A Sandbox holds no per-run state (the budget is per thread, the namespaces are copied per call)."""
    sandbox = _shared.get(limits)
    if sandbox is None:
        with _shared_lock:
            sandbox = _shared.setdefault(limits, Sandbox(None, limits))
    return sandbox


@functools.lru_cache(maxsize=4096)
def _syntax_error_args(expression: str) -> tuple[Any, ...] | None:
    try:
        ast.parse(expression)
    except SyntaxError as err:
        return err.args
    return None


class SandboxedEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's task-data environment, with every evaluate/execute run through the Sandbox.

    Keeps the library's contract: ``evaluate`` sees task data (over helpers and any external
    context such as DMN's ``dmninputexpr``); ``execute`` runs with task data as globals, so
    assigned variables become task data, and cleans up after itself.

    Scripts with loops or functions run in an evaluator process under kernel limits (``isolation.py``)
    unless ``isolated`` is False, or None and ``BUDGETFLOW_SCRIPT_EVALUATORS=0``; expressions and
    straight-line scripts always run in-process (docs/scripts.md says why).
    """

    def __init__(self, extra_globals: dict[str, Any] | None = None, limits: SandboxLimits | None = None,
                 *, isolated: bool | None = None, straight_line_here: bool = True):
        self.sandbox = Sandbox(extra_globals, limits) if extra_globals else shared_sandbox(limits)
        super().__init__(self.sandbox.public)
        if isolated is None:
            isolated = configured_size() > 0
        self.scripts = IsolatedScripts(self.sandbox, extra_globals, straight_line_here=straight_line_here) \
            if isolated else None

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        return self.sandbox.evaluate(expression, context, external_context)

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        if self.scripts is not None:
            self.scripts.execute(script, context, external_context)
        else:
            self.sandbox.execute(script, context, external_context)
        return True


class SandboxedScriptEngine(PythonScriptEngine):
    """Turns sandbox errors into ``WorkflowTaskException`` naming the task, line and reason.

    Also replaces two error paths of the library that fail themselves in SpiffWorkflow 3.2.0:
    ``create_task_exec_exception`` (TypeError on a SyntaxError without line number, or on
    non-string exception args such as Decimal's) and ``call_service`` (NameError on ``script``).
    """

    def validate(self, expression: str) -> None:
        """``ast.parse`` as the library does (its DMN engine asks per cell and evaluation), answered once per text;
        a new SyntaxError each time, so tracebacks do not pile up on one cached exception."""
        args = _syntax_error_args(expression)
        if args is not None:
            raise SyntaxError(*args)

    def evaluate(self, task: Any, expression: str, external_context: dict[str, Any] | None = None) -> Any:
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ScriptError as err:
            raise self._task_error(task, err) from err
        except SpiffWorkflowException as err:
            err.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as err:
            raise self.create_task_exec_exception(task, expression, err) from err

    def execute(self, task: Any, script: str, external_context: dict[str, Any] | None = None) -> Any:
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except ScriptError as err:
            raise self._task_error(task, err) from err
        except Exception as err:
            raise self.create_task_exec_exception(task, script, err) from err

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:
            raise self.create_task_exec_exception(task, "", err) from err

    def create_task_exec_exception(self, task: Any, script: str, err: Exception) -> WorkflowTaskException:
        if isinstance(err, ScriptError):
            return self._task_error(task, err)
        lineno = err.lineno if isinstance(err, SyntaxError) else None
        return WorkflowTaskException(describe_exception(err), task=task, exception=err, line_number=lineno or 0)

    @staticmethod
    def _task_error(task: Any, err: ScriptError) -> WorkflowTaskException:
        return WorkflowTaskException(f"{type(err).__name__}: {err}", task=task, exception=err,
                                     line_number=err.lineno or 0, error_line=err.error_line)


def make_script_engine(
    extra_globals: dict[str, Any] | None = None,
    *,
    limits: SandboxLimits | None = None,
    engine_class: type[PythonScriptEngine] = SandboxedScriptEngine,
    isolated: bool | None = None,
    straight_line_here: bool = True,
) -> PythonScriptEngine:
    """The script engine every workflow gets: sandboxed expressions and scripts.

    ``extra_globals`` adds trusted, pure callables (names must not start with ``_``); scripts can
    call them but not read their attributes. ``engine_class`` lets a subclass (for example one
    that carries the connector port) keep the sandbox; derive it from SandboxedScriptEngine to
    keep the task-naming errors as well. ``isolated`` chooses where scripts run (see
    ``SandboxedEnvironment``); the default follows ``BUDGETFLOW_SCRIPT_EVALUATORS``. With
    ``straight_line_here`` False even straight-line scripts go to an evaluator (the evaluator's own tests).
    """
    return engine_class(environment=SandboxedEnvironment(extra_globals, limits, isolated=isolated,
                                                         straight_line_here=straight_line_here))
