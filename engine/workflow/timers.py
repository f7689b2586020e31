"""BPMN timers on an injectable clock, with missed cycle occurrences coalesced.

SpiffWorkflow's timer event definitions read ``datetime.now()`` themselves. Ours read the time of the
engine pass instead (``DispatchingScriptEngine.now``, set by ``WorkflowRun.at``; the real clock when
unset), so the worker's timer poll and the tests agree on what "now" is.

A cycle timer (``R3/PT24H``: remind every 24 h, three times) that was not checked for a while -- the
worker was down for 80 hours, say -- fires once, not once per missed period: every occurrence due
by now is consumed (the schedule moves on to the first occurrence after now, and each counts
against the repetitions), and the path it starts gets ``timer_overdue``: how late the first missed
occurrence is, as text such as ``"2 days 8 hours"`` (empty when the timer fired within a minute).
The reminder notification passes it on (the diagrams' ``overdue`` parameter).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

OVERDUE_VARIABLE = "timer_overdue"
ON_TIME = timedelta(minutes=1)  # a timer found due within this is on time (the worker polls every second)


def now_of(task: Any) -> datetime:
    """The time of the engine pass running ``task``: the injected one, else the real clock."""
    injected = getattr(task.workflow.script_engine, "now", None)
    return injected if isinstance(injected, datetime) else datetime.now(UTC)


def overdue_text(late: timedelta) -> str:
    """``"2 days 8 hours"``: the two largest units of ``late``; empty when under ON_TIME."""
    if late < ON_TIME:
        return ""
    minutes = round(late.total_seconds() / 60)
    units = (("day", minutes // 1440), ("hour", minutes // 60 % 24), ("minute", minutes % 60))
    parts = [f"{n} {name}{'s' if n != 1 else ''}" for name, n in units if n]
    return " ".join(parts[:2])


class ClockedTimeDate(TimeDateEventDefinition):
    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.parse_time_or_duration(event_value) < now_of(my_task):
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class ClockedDuration(DurationTimerEventDefinition):
    def has_fired(self, my_task: Any) -> bool:
        now = now_of(my_task)
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            parsed = TimerEventDefinition.parse_iso_duration(expression)
            event_value = (now + TimerEventDefinition.get_timedelta_from_start(parsed, now)).isoformat()
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.get_datetime(event_value) < now:
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class ClockedCycle(CycleTimerEventDefinition):
    def cycle_complete(self, my_task: Any) -> bool:
        """Whether an occurrence is due (then the boundary path starts once); all due occurrences are consumed."""
        now = now_of(my_task)
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = self._first(my_task, now)
        if event_value["cycles"] == 0:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
            return False
        next_event = datetime.fromisoformat(event_value["next"])
        if not next_event < now:
            return False
        period = timedelta(seconds=event_value["duration"])
        missed = math.ceil((now - next_event) / period) if period else 1  # occurrences due by now
        if event_value["cycles"] > 0:  # -1: repeats forever
            missed = min(missed, event_value["cycles"])
            event_value["cycles"] -= missed
        event_value["next"] = (next_event + missed * period).isoformat()
        my_task._set_internal_data(event_value=event_value)
        my_task.data[OVERDUE_VARIABLE] = overdue_text(now - next_event)  # the path it starts inherits this
        return True

    def _first(self, my_task: Any, now: datetime) -> dict[str, Any]:
        expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(expression)
        if not _names_a_start(expression):
            start = now + duration  # "R3/PT24H" starts one period after now: the pass's now, not the clock's
        event_value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
        my_task._set_internal_data(event_value=event_value)
        return event_value


def _names_a_start(expression: str) -> bool:
    """Whether a recurring interval names its start or end time (then SpiffWorkflow's reading stands)."""
    return len(expression.upper().replace("--", "/").strip("R").split("/")) == 3


_CLOCKED = {TimeDateEventDefinition: ClockedTimeDate, DurationTimerEventDefinition: ClockedDuration,
            CycleTimerEventDefinition: ClockedCycle}


def clock_timers(specs: Any) -> None:
    """Swap the stock timer definitions of every task spec in ``specs`` (process specs) for the clocked ones."""
    for spec in specs:
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            if definition is not None:
                task_spec.event_definition = _clocked(definition)


def _clocked(definition: Any) -> Any:
    nested = getattr(definition, "event_definitions", None)
    if isinstance(nested, list):  # a MultipleEventDefinition: its timers too
        definition.event_definitions = [_clocked(d) for d in nested]
        return definition
    cls = _CLOCKED.get(type(definition))
    if cls is None:
        return definition
    clocked = cls.__new__(cls)
    clocked.__dict__.update(definition.__dict__)  # the same definition (name, expression...), the clocked methods
    return clocked
