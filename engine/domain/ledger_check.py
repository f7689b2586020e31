"""The rules ``budgetflow ledger verify`` checks: cached balances equal the entries, nothing over-committed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.domain.budget import HUNDRED, ControlMode


@dataclass(frozen=True, slots=True)
class LineTotals:
    line_id: int
    label: str
    control_mode: ControlMode
    tolerance_pct: Decimal
    cached: tuple[Decimal, Decimal, Decimal]  # budget, reserved, consumed on the line row
    entries: tuple[Decimal, Decimal, Decimal]  # the same three summed from ledger_entry


@dataclass(frozen=True, slots=True)
class ReservationTotals:
    reservation_id: int
    line_label: str
    amount: Decimal
    status: str
    cached_consumed: Decimal
    cached_released: Decimal
    reserved_by_entries: Decimal
    consumed_by_entries: Decimal
    released_by_entries: Decimal


_BUCKETS = ("budget", "reserved", "consumed")


def check_line(t: LineTotals) -> list[str]:
    problems = [
        f"line {t.label}: cached {name} {cached} but entries sum to {summed}"
        for name, cached, summed in zip(_BUCKETS, t.cached, t.entries, strict=True) if cached != summed
    ]
    budget, reserved, consumed = t.entries
    if reserved < 0:
        problems.append(f"line {t.label}: open reservations are negative ({reserved})")
    limit = budget + budget * t.tolerance_pct / HUNDRED
    if t.control_mode is ControlMode.FORBID and reserved + consumed > limit:
        problems.append(
            f"line {t.label}: over-committed by {reserved + consumed - limit} "
            f"(reserved {reserved} + consumed {consumed} > limit {limit})"
        )
    return problems


def check_reservation(t: ReservationTotals) -> list[str]:
    where = f"reservation {t.reservation_id} on line {t.line_label}"
    problems = []
    if t.reserved_by_entries != t.amount:
        problems.append(f"{where}: amount {t.amount} but RESERVE entries sum to {t.reserved_by_entries}")
    if (t.cached_consumed, t.cached_released) != (t.consumed_by_entries, t.released_by_entries):
        problems.append(
            f"{where}: cached consumed/released {t.cached_consumed}/{t.cached_released} "
            f"but entries say {t.consumed_by_entries}/{t.released_by_entries}"
        )
    resolved = t.consumed_by_entries + t.released_by_entries
    if resolved > t.amount:
        problems.append(f"{where}: consumed + released {resolved} exceeds the reserved {t.amount}")
    if t.status == "closed" and resolved != t.amount:
        problems.append(f"{where}: closed but {t.amount - resolved} is still held")
    return problems
