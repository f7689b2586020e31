"""Shipped data dictionaries: the demo company that ``budgetflow seed demo`` imports."""

from __future__ import annotations

from pathlib import Path


def demo_folder() -> Path:
    """The demo company's data-dictionary folder (docs/master-data.md describes the format)."""
    # Package data sits beside this module in the source tree and in the installed wheel alike.
    return Path(__file__).with_name("demo")
