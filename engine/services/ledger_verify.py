"""Prove the cached balances against the append-only entries (``budgetflow ledger verify``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.domain.ledger_check import LineTotals, ReservationTotals, check_line, check_reservation


@dataclass
class VerifyReport:
    lines: int = 0
    reservations: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(lines: Iterable[LineTotals], reservations: Iterable[ReservationTotals]) -> VerifyReport:
    report = VerifyReport()
    for line in lines:
        report.lines += 1
        report.problems.extend(check_line(line))
    for res in reservations:
        report.reservations += 1
        report.problems.extend(check_reservation(res))
    return report
