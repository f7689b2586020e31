"""Business hours: when people act, and how long something took in working hours.

People in a simulation respond only within business hours (default Mon-Fri 09:00-18:00,
Asia/Shanghai); the engine's timers run on calendar time, as they do in production. Every
datetime here is timezone-aware; the engine gets UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: ZoneInfo
    opens: time
    closes: time
    working_days: frozenset[int]  # 0 = Monday
    holidays: frozenset[date] = frozenset()

    @property
    def hours_per_day(self) -> float:
        return (datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)).seconds / 3600

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays

    def next_open(self, at: datetime) -> datetime:
        """``at`` if within business hours, else the next opening time."""
        local = at.astimezone(self.timezone)
        for _ in range(3700):  # ten years of days: a calendar with no working day is refused on loading
            day = local.date()
            if self.is_working_day(day):
                start, end = self._bounds(day)
                if local < start:
                    return start
                if local < end:
                    return local
            local = datetime.combine(day + timedelta(days=1), self.opens, self.timezone)
        raise ValueError("the calendar has no working day")

    def add_working_hours(self, at: datetime, hours: float) -> datetime:
        """The moment ``hours`` working hours after ``at`` (counted from the next opening if closed)."""
        left = timedelta(hours=max(hours, 0.0))
        current = self.next_open(at)
        while True:
            _start, end = self._bounds(current.date())
            if current + left <= end:
                return current + left
            left -= end - current
            current = self.next_open(end + timedelta(seconds=1))

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours from ``start`` to ``end`` (0 when ``end`` is not later)."""
        total = timedelta()
        current = self.next_open(start)
        while current < end:
            _day_start, day_end = self._bounds(current.date())
            total += min(day_end, end) - current
            current = self.next_open(day_end + timedelta(seconds=1))
        return total.total_seconds() / 3600

    def _bounds(self, day: date) -> tuple[datetime, datetime]:
        return (datetime.combine(day, self.opens, self.timezone), datetime.combine(day, self.closes, self.timezone))


def calendar_of(spec: dict[str, object]) -> BusinessCalendar:
    """From a population file's ``calendar`` section (already validated)."""
    opens, closes = (time.fromisoformat(str(t)) for t in spec.get("hours", ["09:00", "18:00"]))  # type: ignore[attr-defined]
    days = spec.get("working_days", list(DAY_NAMES[:5]))
    holidays = spec.get("holidays", [])
    return BusinessCalendar(
        timezone=ZoneInfo(str(spec.get("timezone", "Asia/Shanghai"))), opens=opens, closes=closes,
        working_days=frozenset(DAY_NAMES.index(str(d).lower()) for d in days),  # type: ignore[attr-defined]
        holidays=frozenset(date.fromisoformat(str(d)) for d in holidays))  # type: ignore[attr-defined]
