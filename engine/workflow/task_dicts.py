"""A workflow's tasks as the dicts SpiffWorkflow 3.2.0's ``TaskConverter.to_dict`` writes, built in one pass.

Saving an instance writes every task of its tree, after every step (7 saves per claim lifecycle, 50–100
tasks each). The library goes through its registry for each task (a type lookup, a converter call) and
turns each task's UUID into text about four times: as the mapping's key, as its ``id``, as its children's
``parent`` and in its parent's ``children``. Here each UUID is turned into text once per save (looked up
by its int, which hashes in C) and the ``EngineTask`` dicts are built directly; anything else (a stock
``Task``) still goes through the registry.

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
    tasks = workflow.tasks
    # Keyed by the UUID's int: hashing a UUID runs Python code (UUID.__hash__, __eq__), an int's does not.
    texts = {uid.int: str(uid) for uid in tasks}
    return {texts[uid.int]: _task_dict(task, tasks, texts) if type(task) is EngineTask else convert(task)
            for uid, task in tasks.items()}


def _task_dict(task: EngineTask, tasks: dict[UUID, Any], texts: dict[int, str]) -> dict[str, Any]:
    parent_id = task._parent
    parent = tasks.get(parent_id) if parent_id is not None else None  # Task.parent, without the property
    if parent is None:
        data, delta = task.data, {}
    else:
        before, after = parent.data, task.data
        data = {}
        delta = {"updates": {key: after[key] for key in after if key not in before or after[key] != before[key]},
                 "deletions": [key for key in before if key not in after]}
    return {
        "id": texts[task.id.int],
        "parent": _text(parent_id, texts) if parent is not None else None,
        "children": [_text(child, texts) for child in task._children],
        "last_state_change": task.last_state_change,
        "state": task.state,
        "task_spec": task.task_spec.name,
        "triggered": task.triggered,
        "internal_data": _clean(task.internal_data),
        "data": data,
        "delta": delta,
        "typename": TYPENAME,
    }


def _text(uid: UUID, texts: dict[int, str]) -> str:
    return texts.get(uid.int) or str(uid)  # a child not (yet) in the workflow's tasks is written all the same


def _clean(internal: dict[str, Any]) -> dict[str, Any]:
    # DefaultRegistry.clean: what the registry's convert does to a plain dict while encoding JSON.
    if not internal:
        return {}
    return {k: v for k, v in internal.items() if not callable(v) and not isinstance(v, ModuleType)}
