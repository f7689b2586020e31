"""The repository's own flows as scenario files (bpmn/*/scenarios/), run by ``budgetflow bpmn test``.

They replace the Python route table: every route of approval_route.dmn at each of its boundaries, and the
travel and claim paths (approve, reject, send back, withdraw, reminder, SLA escalation, duplicate invoice,
overrun), each through the real engine in a throwaway database.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.bpmn_static.harness import BPMN_DIR
from tests.cli.support import run

ROUTE_FILE = "travel_application/scenarios/approval_routes.scenario.yaml"


def test_the_shipped_scenarios_pass(cli_env, monkeypatch, capsys):
    done = run(monkeypatch, capsys, cli_env, "bpmn", "test", str(BPMN_DIR), "--json")
    report = json.loads(done.out)
    failed = [(s["file"], s["name"], s["difference"]) for s in report["scenarios"] if not s["passed"]]
    assert done.code == 0 and failed == []
    names = {(s["file"], s["name"]) for s in report["scenarios"]}
    assert len([n for f, n in names if f == ROUTE_FILE]) == 12  # every boundary the DMN has
    seen = {s["observed"]["outcome"] for s in report["scenarios"]}
    assert {"approved", "rejected", "withdrawn", "posted"} <= seen
    routes = [s["observed"]["route"] for s in report["scenarios"]]
    assert any("approve_overrun" in r for r in routes) and any(r.count("fill_claim") == 2 for r in routes)
    assert any(r.count("fill_application") == 2 for r in routes)  # sent back and resubmitted


def test_the_configured_database_is_not_touched(cli_env, monkeypatch, capsys, tmp_path: Path):
    done = run(monkeypatch, capsys, cli_env, "bpmn", "list", "--json")
    before = json.loads(done.out)["versions"]
    assert run(monkeypatch, capsys, cli_env, "bpmn", "test", str(BPMN_DIR)).code == 0
    assert json.loads(run(monkeypatch, capsys, cli_env, "bpmn", "list", "--json").out)["versions"] == before
