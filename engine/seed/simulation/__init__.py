"""The default population file of ``budgetflow simulate`` (bpmn/README.md, "Simulate a change")."""

from __future__ import annotations

from pathlib import Path


def default_population() -> Path:
    return Path(__file__).with_name("population.yaml")
