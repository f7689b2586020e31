"""How a budget line is named: period, org unit or cost center, expense subject, optional project."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from engine.domain.budget import ControlMode
from engine.domain.errors import InvalidAmount

# [0-9], not \d: \d also matches Arabic-Indic and full-width digits.
_PERIOD = re.compile(r"^(?P<year>[0-9]{4})(?:-(?:Q(?P<q>[1-4])|(?P<m>0[1-9]|1[0-2])))?$")


def period_kind(period: str) -> str:
    """'year', 'quarter' or 'month' for '2026', '2026-Q1', '2026-03'; ValueError otherwise."""
    match = _PERIOD.match(period or "")
    if not match:
        raise ValueError(f"period {period!r} is not YYYY, YYYY-Qn or YYYY-MM")
    if match["q"]:
        return "quarter"
    return "month" if match["m"] else "year"


@dataclass(frozen=True, slots=True)
class BudgetLineKey:
    period: str
    subject: str
    org_unit: str | None = None
    cost_center: str | None = None
    project: str | None = None

    def __post_init__(self) -> None:
        period_kind(self.period)
        if bool(self.org_unit) == bool(self.cost_center):
            raise ValueError("a budget line belongs to exactly one of org unit or cost center")

    @property
    def label(self) -> str:
        """The canonical, unique, human-readable key, e.g. ``2026/ORG:SALES-N/TRAVEL``."""
        holder = f"ORG:{self.org_unit}" if self.org_unit else f"CC:{self.cost_center}"
        parts = [self.period, holder, self.subject] + ([f"PRJ:{self.project}"] if self.project else [])
        return "/".join(parts)


@dataclass(frozen=True, slots=True)
class LinePolicy:
    control_mode: ControlMode
    tolerance_pct: Decimal

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.tolerance_pct <= Decimal(100):
            raise InvalidAmount(f"tolerance {self.tolerance_pct}% must be between 0 and 100")
