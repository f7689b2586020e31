"""What a run did, read off any SpiffWorkflow task tree: the tasks it completed, in order, and the flows it took.

The project's ``WorkflowRun`` and the stock reference (``stock.py``) both hold a ``BpmnWorkflow``; reading
both the same way is what lets tests/workflow/test_stock_equivalence.py compare them.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.util.task import TaskState

# States a task reaches only when a token arrived on its incoming flow (CANCELLED is left out: a task
# cancelled while still predicted never had one).
REACHED = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.COMPLETED | TaskState.ERROR


def element(task: Any) -> str | None:
    """The diagram element a task runs, by BPMN id (a multi-instance child has its parent's); None for the
    library's own scaffolding (Start, End, boundary-event splits and joins)."""
    bpmn_id = getattr(task.task_spec, "bpmn_id", None)
    return str(bpmn_id) if bpmn_id else None


def completed_sequence(workflow: Any) -> list[str]:
    """The elements the run completed, subprocesses included, in the order they completed.

    Ordered by each task's ``last_state_change`` (a COMPLETED task never changes state again); two tasks
    with the same stamp keep their order in the tree.
    """
    tasks = [t for t in workflow.get_tasks(state=TaskState.ANY_MASK)
             if t.state == TaskState.COMPLETED and element(t) is not None]
    ordered = sorted(enumerate(tasks), key=lambda pair: (pair[1].last_state_change, pair[0]))
    return [str(element(task)) for _, task in ordered]


def steps_taken(workflow: Any) -> set[tuple[str, str, str]]:
    """``(process id, from, to)`` for every step a token took between two elements, subprocesses included.

    A boundary event hangs under the element before the task it is attached to, so its pair names no
    sequence flow; callers match these against the diagrams' flows (``StockDiagrams.sequence_flows``).
    """
    taken = set()
    for task in workflow.get_tasks(state=TaskState.ANY_MASK):
        target = element(task)
        if target is None or not task.state & REACHED:
            continue
        source = task.parent
        while source is not None and element(source) is None:
            source = source.parent
        if source is not None:  # reached, as its descendant was (even if cancelled since, like a reminder timer)
            taken.add((str(task.workflow.spec.name), str(element(source)), target))
    return taken
