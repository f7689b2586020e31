"""Budget pages: lines with their use, one line's ledger entries, transfers between lines."""

from __future__ import annotations

from web.budget_pages import line, lines, transfer
from web.budget_pages.blueprint import bp

__all__ = ["bp", "line", "lines", "transfer"]
