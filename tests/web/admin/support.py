"""Shared by the admin page tests: who holds which role in the demo, and what a refused request must not change."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from engine.services import read_models
from tests.boundary.support import snapshot

# One demo person per role (web/demo.py; engine/seed/demo/employees.csv).
PEOPLE = {
    "employee": "E0017",
    "manager": "E0005",
    "finance": "E0011",
    "budget_admin": "E0013",
    "auditor": "E0014",
    "admin": "E0015",
    "process_designer": "E0016",
}


def state(app: Any) -> str:
    """A digest of what the admin pages can change: ledger, flows, jobs, versions, incidents, balances."""
    found = read_models.incidents(app.reader)
    lines, _names = read_models.balances(app.reader)
    return hashlib.sha256(json.dumps([
        repr(snapshot(app)), read_models.model_versions(app.reader), found.jobs, found.instances,
        read_models.audit_row_count(app.reader), [repr(line) for line in lines],
    ], default=str, sort_keys=True).encode()).hexdigest()


def page(client: Any, url: str) -> tuple[int, str]:
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)
