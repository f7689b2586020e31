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
    """The bundle's processes other than those only ever run as a call activity, by process id."""
    called = {name for _, subprocesses in bundle.processes.values() for name in subprocesses}
    return [EntryPoint(pid, str(spec.description or pid), str(getattr(spec, "file", "") or ""), _first_form(spec))
            for pid, (spec, _) in sorted(bundle.processes.items()) if pid not in called]


def _first_form(spec: Any) -> str | None:
    for task_spec in spec.task_specs.values():
        if type(task_spec).__name__ != "StartEvent":
            continue
        for following in task_spec.outputs:
            properties = (getattr(following, "extensions", None) or {}).get("properties") or {}
            if getattr(following, "manual", False) and properties.get("formJsonSchemaFilename"):
                return str(properties["formJsonSchemaFilename"])
    return None
