"""``budgetflow bench lifecycle --json``: the report's shape (its figures belong in docs/performance.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PG_ENV = "BUDGETFLOW_TEST_DATABASE_URL"


def test_the_json_report_holds_each_database_and_the_state_sizes():
    done = subprocess.run([sys.executable, "-m", "engine", "bench", "lifecycle", "--count", "2", "--json"],
                          env=dict(os.environ), capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    databases = ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]
    assert sorted(report) == sorted([*databases, "state_bytes"])
    for name in databases:
        figures = report[name]
        assert set(figures) == {"lifecycles_per_s", "in_memory_per_s", "overhead_ratio"}
        assert figures["lifecycles_per_s"] > 0 and figures["in_memory_per_s"] > 0
        assert abs(figures["overhead_ratio"] - figures["in_memory_per_s"] / figures["lifecycles_per_s"]) < 0.02
    sizes = report["state_bytes"]
    assert set(sizes) == {"50", "200"} and 0 < sizes["50"] < sizes["200"] < 4 * sizes["50"]  # linear, not quadratic
