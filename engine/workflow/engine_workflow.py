"""The engine's BpmnWorkflow: SpiffWorkflow's own, with its hot task-tree walks done by ``task_walk``.

Every engine pass asks each (sub)workflow for its READY tasks, every completed task makes its workflow
update its WAITING tasks, and ``is_completed`` looks for an unfinished task: each a walk of the whole
tree through the library's iterator. These classes route exactly those walks through
``task_walk.walk`` (same tasks, same order) and leave everything else, and every query the walk
does not understand, to the library. Their tasks are ``EngineTask`` (engine_task.py). The saved
state is the library's: the serializer writes these classes under the stock type names
(``serializer.py``), so states load both ways.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.workflow.engine_task import EngineTask
from engine.workflow.task_walk import WALK_FILTERS, find, fits, walk


def _plant_root(workflow: Any) -> None:
    """What ``Workflow.__init__`` does for a new workflow, with an ``EngineTask`` root (the library names its
    own class there): the root's children, and theirs, are then created as ``EngineTask`` too."""
    workflow.task_tree = EngineTask(workflow, workflow.spec.start, state=TaskState.FUTURE)
    workflow.task_tree.task_spec._predict(workflow.task_tree, mask=TaskState.NOT_FINISHED_MASK)
    workflow.task_tree._ready()


class _FastWalks:
    """The walks both the top workflow and its subprocesses make, through ``task_walk``."""

    tasks: dict[Any, Any]
    task_tree: Any
    completed: bool
    top_workflow: Any

    def get_tasks_iterator(self, first_task: Any = None, **kwargs: Any) -> Any:
        top = self.top_workflow
        if kwargs.keys() <= WALK_FILTERS and fits(top):
            return iter(find(first_task or self.task_tree, subprocesses=top.subprocesses, **kwargs))
        return super().get_tasks_iterator(first_task, **kwargs)  # type: ignore[misc]

    def update_waiting_tasks(self) -> None:
        if not fits(self.top_workflow):
            super().update_waiting_tasks()  # type: ignore[misc]
            return
        if not any(task._state == TaskState.WAITING for task in self.tasks.values()):
            return  # nothing the library's walk would update (most calls: no join or event is waiting)
        # Lazy, as the library's loop: an update may change the tree the rest of the walk reads.
        for task in walk(self.task_tree, state=TaskState.WAITING):
            task.task_spec._update(task)

    def is_completed(self) -> bool:
        if not self.completed and fits(self.top_workflow):
            if next(walk(self.task_tree, state=TaskState.NOT_FINISHED_MASK), None) is None:
                self.completed = True
            return self.completed
        return bool(super().is_completed())  # type: ignore[misc]


class EngineSubWorkflow(_FastWalks, BpmnSubWorkflow):
    """A subprocess (call activity, embedded subprocess) of an ``EngineWorkflow``."""

    def __init__(self, spec: Any, parent_task_id: Any, top_workflow: Any, deserializing: bool = False) -> None:
        super().__init__(spec, parent_task_id, top_workflow, deserializing=True)
        if not deserializing:
            _plant_root(self)


class EngineWorkflow(_FastWalks, BpmnWorkflow):
    """The workflow every run of the engine uses (``WorkflowRun.start``/``load``)."""

    def __init__(self, spec: Any, subprocess_specs: dict[str, Any] | None = None, script_engine: Any = None,
                 deserializing: bool = False) -> None:
        super().__init__(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
        if not deserializing:
            _plant_root(self)

    def create_subprocess(self, my_task: Any, spec_name: str) -> EngineSubWorkflow:
        # BpmnWorkflow.create_subprocess with our class: its walks are the hot ones inside a call activity.
        subprocess = EngineSubWorkflow(self.subprocess_specs[spec_name], parent_task_id=my_task.id,
                                       top_workflow=self)
        self.subprocesses[my_task.id] = subprocess
        return subprocess
