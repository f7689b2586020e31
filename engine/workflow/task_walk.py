"""SpiffWorkflow's task-tree walk, done with a list as a stack: the same tasks in the same order.

``TaskIterator`` (and ``BpmnTaskIterator``, which also enters subprocesses) visit the tree depth first
by popping the head of a Python list and prepending each task's children, reading them through the
``children`` and ``parent`` properties (a dict lookup per UUID each). The engine walks the tree after
every completed task and on every engine pass, so that walk was the biggest single cost of a step.

This walk pops from the end of a list instead, reads ``_children`` from the workflow's task dict
directly and finds subprocess owners by object (no UUID hashing per task visited), with the
library's rules unchanged:

- a task is visited before its children; a subprocess's root before the task's own children;
- a task's children are read when the task is reached, before the caller sees the task (a caller that
  changes the tree while walking lazily sees what the library's iterator would);
- children are entered only below a task whose state is at least the filter's ``min_state``, or that
  owns a subprocess (``BpmnTaskIterator``);
- the library stops descending at ``max_depth`` (1,000) by a depth count it keeps while walking; that
  count grows by at most one per task entered, so it can only matter when the workflow holds 1,000 or
  more tasks: those workflows take the library's own iterator (``fits``).

``find`` answers the engine's usual question -- the READY tasks, nearly always one -- without a walk
when a flat scan finds at most one candidate (see there).
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
    owners = _owners(first, subprocesses) if subprocesses else {}
    stack = [first]
    pop, push = stack.pop, stack.extend
    while stack:
        task = pop()
        children = task._children
        owned = owners.get(id(task)) if owners else None
        if owned is not None or (children and task._state >= lowest):
            if children:
                tasks = task.workflow.tasks
                push([tasks.get(child) for child in reversed(children)])
            if owned is not None:
                stack.append(owned.task_tree)
        if task._state & state and (manual is None or task.task_spec.manual == manual):
            yield task


def _owners(first: Any, subprocesses: dict[Any, Any]) -> dict[int, Any]:
    """Each subprocess by the Python id of the task that owns it: a lookup per task visited then hashes an int,
    not a UUID (``UUID.__hash__`` is Python code). A handful of subprocesses, found once per walk."""
    top = first.workflow.top_workflow
    owners = {}
    for task_id, subprocess in subprocesses.items():
        owner = top.get_task_from_id(task_id)
        if owner is not None:
            owners[id(owner)] = subprocess
    return owners


def find(first: Any, state: int = TaskState.ANY_MASK, manual: bool | None = None,
         subprocesses: dict[Any, Any] | None = None) -> list[Any]:
    """``list(walk(...))`` without walking when at most one task anywhere could match.

    An engine pass asks for the READY tasks, and there is usually one. A flat scan of every task of the
    workflow and its subprocesses (a superset of what the walk can reach) finds the candidates; with none,
    the walk would find none; with one, the walk finds it exactly when it is reachable from ``first``
    (``_reachable``); with more, the walk decides their order.
    """
    if subprocesses is None:  # TaskIterator: this workflow only
        pools = [first.workflow.tasks.values()]
    else:
        pools = [first.workflow.top_workflow.tasks.values(), *(sp.tasks.values() for sp in subprocesses.values())]
    found = [t for pool in pools for t in pool if t._state & state and (manual is None or t.task_spec.manual == manual)]
    if len(found) > 1:
        return list(walk(first, state, manual, subprocesses))
    if found and not _reachable(found[0], first, min_state(state), subprocesses):
        return []
    return found


def _reachable(task: Any, first: Any, lowest: int, subprocesses: dict[Any, Any] | None) -> bool:
    """Whether ``walk(first, ...)`` reaches ``task``: every ancestor up to ``first`` is entered (its state is at
    least ``lowest``, or it owns a subprocess), climbing from a subprocess's root to the task that owns it."""
    node: Any = task
    while node is not first:
        parent: Any = node.parent
        if parent is None:  # a root: of a subprocess the walk enters from its owner, or of nothing reachable
            workflow: Any = node.workflow
            owner_id = getattr(workflow, "parent_task_id", None)
            owned = subprocesses.get(owner_id) if subprocesses is not None and owner_id is not None else None
            if owned is None or owned is not workflow or node is not workflow.task_tree:
                return False
            parent = workflow.top_workflow.get_task_from_id(owner_id)
            if parent is None:
                return False
        elif node.id not in parent._children:
            return False
        elif parent._state < lowest and (subprocesses is None or parent.id not in subprocesses):
            return False
        node = parent
    return True
