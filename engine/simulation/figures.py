"""Vouchers, left-over reservations and budget lines: for a run's documents, or the whole database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Figures:
    """Vouchers, balances and left-overs: for this run's documents, or for the whole database."""

    vouchers: int
    left_over: dict[str, Decimal]  # currency -> what finished requests still hold
    left_over_count: int
    lines_touched: list[Any]  # budget lines with anything reserved or consumed (database totals only)


def figures(reader: Callable[[], Any], documents: list[str] | None) -> Figures:
    """``documents``: this run's; None: the whole database (earlier runs and real documents included)."""
    wanted = None if documents is None else set(documents)
    with reader() as uow:
        vouchers = uow.reports.vouchers(wanted)
        left = [r for r in uow.reports.open_reservations()
                if r.document_status == "complete" and (wanted is None or r.document in wanted)]
        lines = [] if wanted is not None else [b for b in uow.reports.balances() if b.reserved or b.consumed]
    held: dict[str, Decimal] = {}
    for r in left:
        held[r.currency] = held.get(r.currency, Decimal(0)) + r.remaining
    return Figures(int(vouchers), held, len(left), lines)
