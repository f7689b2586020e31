"""What a simulation run measured, on its virtual clock, for its own documents only."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Document number prefix -> the process (bpmn/) that runs such a document.
PROCESS_CODES = {"TA": "travel_application", "EC": "expense_claim"}
CYCLES = ("request", "claim", "application")  # see SimulationReport.cycles


@dataclass(frozen=True)
class Span:
    """One measured stretch: in working hours (business calendar) and in calendar days."""

    working_hours: float
    calendar_days: float


@dataclass
class SimulationReport:
    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: {p: Counter() for p in PROCESS_CODES.values()})
    human_steps: int = 0
    automatic_steps: int = 0
    # request: first submission (the application's, or a standalone claim's) to the posted voucher;
    # claim: the claim's submission to the posted voucher; application: submission to the decision.
    cycles: dict[str, list[Span]] = field(default_factory=lambda: {c: [] for c in CYCLES})
    waits: dict[str, list[float]] = field(default_factory=dict)  # user task id -> working hours open
    reminders_sent: int = 0  # notify/Send jobs with template approval_reminder the worker ran
    escalations: Counter[str] = field(default_factory=Counter)  # interrupting timer boundary id -> fired
    unanswered: Counter[str] = field(default_factory=Counter)  # user task id -> closed with nobody acting
    refused: list[str] = field(default_factory=list)  # what the engine refused a simulated person, and why
    unfinished: int = 0  # documents still running when the simulation ended
    documents: list[str] = field(default_factory=list)
    model_shas: set[str] = field(default_factory=set)  # the model versions (sha256) every instance ran on
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def automation_rate(self) -> float:
        total = self.human_steps + self.automatic_steps
        return self.automatic_steps / total if total else 0.0

    def wait(self, task: str, hours: float) -> None:
        self.waits.setdefault(task, []).append(hours)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))  # ceil without floats drifting
    return ordered[int(rank) - 1]


def summary(values: list[float], digits: int = 1) -> dict[str, Any] | None:
    """Count, median and p90 of ``values``; None when there are none."""
    if not values:
        return None
    return {"count": len(values), "median": round(statistics.median(values), digits),
            "p90": round(percentile(values, 0.9), digits)}


def cycle_summary(spans: list[Span]) -> dict[str, Any] | None:
    """Median and p90 of a cycle, in working hours and in calendar days."""
    hours = summary([s.working_hours for s in spans])
    days = summary([s.calendar_days for s in spans], digits=2)
    if hours is None or days is None:
        return None
    return {"count": hours["count"], "working_hours": {"median": hours["median"], "p90": hours["p90"]},
            "calendar_days": {"median": days["median"], "p90": days["p90"]}}
