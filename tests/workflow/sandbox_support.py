"""Shared by the sandbox tests: tight limits so runaway code is stopped fast, and typical task data."""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.workflow.script_helpers import SandboxLimits

LIMITS = SandboxLimits(expression_seconds=0.05, script_seconds=0.25, max_memory_bytes=64 * 2**20)


def task_data() -> dict[str, Any]:
    return {"x": 1, "amount": 6000, "subject": "travel", "text": "hello", "approvers": ["li.si"],
            "lines": [{"amount": "1200.50"}, {"amount": "300"}], "submitted": date(2024, 1, 31)}
