"""What a person can start from a bundle: its processes that no other process calls, and their first form.

The first form is the form of the user task the start event leads to (``fill_application``,
``fill_claim``): what the web app shows on its "new document" page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.workflow.bundle import Bundle


@dataclass(frozen=True)
class EntryPoint:
    process_id: str
    name: str  # the process's name in the diagram
    diagram_file: str
    form_key: str | None  # the first user task's form file, relative to the diagram


def entry_points(bundle: Bundle) -> list[EntryPoint]:
    """The bundle's processes a person starts: not those only ever run as a call activity, nor those that
    start on a message (an approval finished in the OA starts them, never a person)."""
    called = {name for _, subprocesses in bundle.processes.values() for name in subprocesses}
    return [EntryPoint(pid, str(spec.description or pid), str(getattr(spec, "file", "") or ""), _first_form(spec))
            for pid, (spec, _) in sorted(bundle.processes.items()) if pid not in called and not _on_message(spec)]


def starts_on_message(bundle: Bundle, process_id: str) -> bool:
    """Whether ``process_id`` waits for a message to start (an OA approval starts it, never a person)."""
    return _on_message(bundle.spec(process_id)[0])


def _on_message(spec: Any) -> bool:
    """Whether every start event of the process waits for a message."""
    starts = [t for t in spec.task_specs.values() if type(t).__name__ == "StartEvent"]
    return bool(starts) and all(type(getattr(t, "event_definition", None)).__name__ == "MessageEventDefinition"
                                for t in starts)


def _first_form(spec: Any) -> str | None:
    for task_spec in spec.task_specs.values():
        if type(task_spec).__name__ != "StartEvent":
            continue
        for following in task_spec.outputs:
            properties = (getattr(following, "extensions", None) or {}).get("properties") or {}
            if getattr(following, "manual", False) and properties.get("formJsonSchemaFilename"):
                return str(properties["formJsonSchemaFilename"])
    return None
