"""An inbox row as the services hand it to persistence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class InboxEntry:
    """A READY user task with the people allowed to act on it, resolved when it became ready."""

    task_guid: str
    bpmn_id: str
    title: str
    lane: str | None
    candidates: list[str]
    form_key: str | None
    due_at: datetime | None = None
