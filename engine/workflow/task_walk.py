"""SpiffWorkflow's task-tree walk, done with a list as a stack: the same tasks in the same order.

``TaskIterator`` (and ``BpmnTaskIterator``, which also enters subprocesses) visit the tree depth first
by popping the head of a Python list and prepending each task's children, reading them through the
``children`` and ``parent`` properties (a dict lookup per UUID each). The engine walks the tree after
every completed task and on every engine pass, so that walk was the biggest single cost of a step.

This walk pops from the end of a list instead and reads ``_children`` from the workflow's task dict
directly, with the library's rules unchanged:

- a task is visited before its children; a subprocess's root before the task's own children;
- a task's children are read when the task is reached, before the caller sees the task (a caller that
  changes the tree while walking lazily sees what the library's iterator would);
- children are entered only below a task whose state is at least the filter's ``min_state``, or that
  owns a subprocess (``BpmnTaskIterator``);
- the library stops descending at ``max_depth`` (1,000) by a depth count it keeps while walking; that
  count grows by at most one per task entered, so it can only matter when the workflow holds 1,000 or
  more tasks: those workflows take the library's own iterator (``fits``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.util.task import TaskState

MAX_DEPTH = 1000  # TaskIterator's default max_depth
# The filters this walk understands; any other keyword (catches_event, lane, spec_name, end_at_spec...) goes to
# the library's iterator.
WALK_FILTERS = frozenset({"state", "manual"})


def min_state(mask: int) -> int:
    """The lowest state whose children the library enters for a filter on ``mask`` (TaskIterator.__init__)."""
    if mask & TaskState.PREDICTED_MASK:
        return TaskState.MAYBE
    if mask & TaskState.DEFINITE_MASK:
        return TaskState.FUTURE
    return TaskState.COMPLETED


def fits(top: Any) -> bool:
    """Whether the library's depth limit cannot prune a walk of ``top`` (it counts at most one per task)."""
    total = len(top.tasks)
    for subprocess in top.subprocesses.values():
        total += len(subprocess.tasks)
    return total < MAX_DEPTH


def walk(first: Any, state: int = TaskState.ANY_MASK, manual: bool | None = None,
         subprocesses: dict[Any, Any] | None = None) -> Iterator[Any]:
    """Tasks under ``first`` (itself included) whose state is in ``state`` (and whose spec's ``manual`` is
    ``manual`` unless None), in the library's order; ``subprocesses``: the top workflow's, to enter them
    as ``BpmnTaskIterator`` does (None: as ``TaskIterator``, which does not)."""
    lowest = min_state(state)
    stack = [first]
    pop, push = stack.pop, stack.extend
    while stack:
        task = pop()
        children = task._children
        owned = subprocesses.get(task.id) if subprocesses else None
        if owned is not None or (children and task._state >= lowest):
            if children:
                tasks = task.workflow.tasks
                push([tasks.get(child) for child in reversed(children)])
            if owned is not None:
                stack.append(owned.task_tree)
        if task._state & state and (manual is None or task.task_spec.manual == manual):
            yield task
