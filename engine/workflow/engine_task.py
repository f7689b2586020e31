"""The engine's Task: SpiffWorkflow's own, without the log details nobody reads and the merge into nothing.

Two costs of every task state change in SpiffWorkflow 3.2.0, removed here with the behaviour unchanged:

- ``_set_state`` builds a log message and its ``extra`` details (state names, parent lookups) *before*
  calling ``logger.info``, so they are built even when the logger drops the record; here they are built
  only when the ``spiff.task`` logger is enabled for that level (library_logs.py sets it to WARNING).
- ``_inherit_data`` deep-merges the parent's data into the child's. The child's data is nearly always
  still empty, and a deep merge into an empty dict is a copy of each value (a shallow copy of a dict, list
  or set): done directly here. A child that already holds data takes the library's merge.

A task creates its children as its own class (``_add_child``), so one ``EngineTask`` root (engine_workflow.py)
makes the whole tree of them; the serializer writes them under the stock type name ``Task``.
"""

from __future__ import annotations

import logging
import time
from copy import copy
from typing import Any

from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.task import logger as task_logger
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

_COPIED = (dict, list, set)  # what DeepMerge.merge copies (shallowly) instead of sharing


def inherited(parent_data: dict[str, Any]) -> dict[str, Any]:
    """``DeepMerge.merge({}, parent_data)``, done directly: each dict, list or set copied, the rest shared."""
    return {key: (copy(value) if isinstance(value, _COPIED) else value) for key, value in parent_data.items()}


class EngineTask(Task):
    _state: int
    data: dict[str, Any]

    def _add_child(self, task_spec: Any, state: int = TaskState.MAYBE) -> EngineTask:
        # Task._add_child, creating our class (the library names its own).
        if self.has_state(TaskState.PREDICTED_MASK) and state & TaskState.PREDICTED_MASK == 0:
            raise WorkflowException("Attempt to add non-predicted child to predicted task", task_spec=self.task_spec)
        task = EngineTask(self.workflow, task_spec, self, state=state)
        task.thread_id = self.thread_id
        if state == TaskState.READY:
            task._ready()
        return task

    def _set_state(self, value: int) -> None:
        if value != self._state:
            if task_logger.isEnabledFor(logging.INFO):
                super()._set_state(value)  # the library's own, with its log record
                return
            self.last_state_change = time.time()
            self._state = value
        elif task_logger.isEnabledFor(logging.DEBUG):
            super()._set_state(value)

    def _inherit_data(self) -> None:
        parent = self.parent
        if self.data:
            self.data = DeepMerge.merge(self.data, parent.data)
        else:
            self.data.update(inherited(parent.data))  # in place, as DeepMerge.merge does
