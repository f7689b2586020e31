"""Finance pages: the ERP reconciliation runs and their differences, and reconciling now."""

from __future__ import annotations

from web.finance_pages import reconciliation
from web.finance_pages.blueprint import bp

__all__ = ["bp", "reconciliation"]
