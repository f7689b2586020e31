"""The ``budgetflow bench`` JSON reports: their shape (the figures themselves belong in docs/performance.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

PG_ENV = "BUDGETFLOW_TEST_DATABASE_URL"
DATABASES = ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]


def report(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "engine", "bench", *args, "--json"], env=dict(os.environ),
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)  # stdout is the one JSON document; the rest goes to stderr


def test_lifecycle_reports_each_database_and_the_state_sizes():
    found = report("lifecycle", "--count", "2")
    assert sorted(found) == sorted([*DATABASES, "state_bytes", "state_load_save_ms"])
    for name in DATABASES:
        figures = found[name]
        assert set(figures) == {"lifecycles_per_s", "in_memory_per_s", "overhead_ratio", "stock_in_memory_per_s",
                                "persisted_to_stock", "in_memory_to_stock"}
        assert figures["lifecycles_per_s"] > 0 and figures["in_memory_per_s"] > 0
        assert figures["stock_in_memory_per_s"] > 0
        assert abs(figures["overhead_ratio"] - figures["in_memory_per_s"] / figures["lifecycles_per_s"]) < 0.02
        stock = figures["stock_in_memory_per_s"]
        assert abs(figures["persisted_to_stock"] - figures["lifecycles_per_s"] / stock) < 0.02
        assert abs(figures["in_memory_to_stock"] - figures["in_memory_per_s"] / stock) < 0.02
    sizes = found["state_bytes"]
    assert set(sizes) == {"50", "200"} and 0 < sizes["50"] < sizes["200"] < 4 * sizes["50"]  # linear, not quadratic
    times = found["state_load_save_ms"]
    assert set(times) == {"50", "200"} and 0 < times["50"] < times["200"]


def test_inbox_reports_query_times_for_each_database():
    found = report("inbox", "--open", "500", "--history", "2000", "--queries", "20")
    assert sorted(found) == sorted(DATABASES)
    for name in DATABASES:
        figures = found[name]
        assert figures["open_tasks"] == 500 and figures["history"] == 2000
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]
        assert figures["busiest_tasks"] > 20 and figures["full_scan_ms"] > 0


def test_workers_reports_each_database_posted_exactly_once_by_worker_processes():
    found = report("workers", "--drivers", "2", "--lifecycles", "2")
    assert sorted(found) == sorted(DATABASES)
    for name in DATABASES:
        figures = found[name]
        assert figures["ok"] and figures["problems"] == [], figures
        assert (figures["workers"], figures["drivers"], figures["claims"]) == (2, 2, 4)
        assert figures["posting"]["vouchers"] == 4 and figures["posting"]["exactly_once"]
        assert sum(figures["vouchers_by_worker"]) == 4 and figures["worker_exit_codes"] == [0, 0]
        assert figures["ledger_ok"] and figures["audit_ok"]
        assert figures["seconds"] > 0 and len(figures["driver_seconds"]) == 2


def test_memory_reports_pauses_by_generation_and_resident_memory_over_the_run():
    found = report("memory", "--claims", "12")
    assert sorted(found) == ["sqlite"]
    figures = found["sqlite"]
    assert figures["claims"] == 12 and figures["tuned"] is True and figures["frozen_objects"] > 0
    assert set(figures["collections"]) == {"0", "1", "2"}
    assert figures["max_pause_ms"] == max(g["max_ms"] for g in figures["collections"].values())
    assert len(figures["samples"]) >= 6 and figures["rss_mib"]["peak"] >= figures["rss_mib"]["start"] > 0
    assert figures["goals_met"] == (figures["pauses_over_50ms"] == 0 and figures["rss_flat"])


def test_lifecycle_with_processes_reports_one_against_n_in_the_same_run():
    found = report("lifecycle", "--count", "2", "--processes", "2")
    for name in DATABASES:
        scale = found[name]["processes"]
        assert scale["processes"] == 2 and scale["window_s"] >= 2
        assert scale["one_process_per_s"] > 0 and scale["n_processes_per_s"] > 0
        assert abs(scale["scale_out_ratio"] - scale["n_processes_per_s"] / scale["one_process_per_s"]) < 0.02
        assert 0 <= scale["per_process_lifecycles"]["min"] <= scale["per_process_lifecycles"]["max"]
        if name == "postgresql":  # the sampler saw the drivers' own backends, and only those
            for window in ("one_process", "n_processes"):
                shares = scale["pg_activity"][window]
                assert shares["samples"] > 10
                assert shares["idle_in_transaction_share"] + shares["active_share"] > 0
        else:
            assert "pg_activity" not in scale
