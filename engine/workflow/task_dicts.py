"""A workflow's tasks as the dicts SpiffWorkflow 3.2.0's ``TaskConverter.to_dict`` writes, built in one pass.

Saving an instance writes every task of its tree, after every step (7 saves per claim lifecycle, 50–100
tasks each). The library goes through its registry for each task (a type lookup, a converter call) and
turns each task's UUID into text about four times: as the mapping's key, as its ``id``, as its children's
``parent`` and in its parent's ``children``. Here each UUID is turned into text once per save and the
``EngineTask`` dicts are built directly; anything else (a stock ``Task``) still goes through the registry.

The output is the library's, key for key and value for value: tests/workflow/test_task_dicts.py compares
it with the stock converter's on every path of the bundled diagrams, so a SpiffWorkflow upgrade that
changes the format fails there, not in a stored state.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any
from uuid import UUID

from engine.workflow.engine_task import EngineTask

TYPENAME = "Task"  # the stock type name the serializer writes EngineTask under (serializer.py)


def task_dicts(workflow: Any, convert: Callable[[Any], Any]) -> dict[str, Any]:
    """``{str(id): task dict}`` for ``workflow.tasks``; ``convert`` is the registry's (for other task types)."""
    texts: dict[UUID, str] = {}

    def text(uid: UUID) -> str:
        found = texts.get(uid)
        if found is None:
            found = texts[uid] = str(uid)
        return found

    tasks = workflow.tasks
    return {text(uid): _task_dict(task, tasks, text) if type(task) is EngineTask else convert(task)
            for uid, task in tasks.items()}


def _task_dict(task: EngineTask, tasks: dict[UUID, Any], text: Callable[[UUID], str]) -> dict[str, Any]:
    parent = tasks.get(task._parent) if task._parent is not None else None  # Task.parent, without the property
    if parent is None:
        data, delta = task.data, {}
    else:
        before, after = parent.data, task.data
        data = {}
        delta = {"updates": {key: after[key] for key in after if key not in before or after[key] != before[key]},
                 "deletions": [key for key in before if key not in after]}
    return {
        "id": text(task.id),
        "parent": text(task._parent) if parent is not None else None,
        "children": [text(child) for child in task._children],
        "last_state_change": task.last_state_change,
        "state": task.state,
        "task_spec": task.task_spec.name,
        "triggered": task.triggered,
        "internal_data": _clean(task.internal_data),
        "data": data,
        "delta": delta,
        "typename": TYPENAME,
    }


def _clean(internal: dict[str, Any]) -> dict[str, Any]:
    # DefaultRegistry.clean: what the registry's convert does to a plain dict while encoding JSON.
    if not internal:
        return {}
    return {k: v for k, v in internal.items() if not callable(v) and not isinstance(v, ModuleType)}
