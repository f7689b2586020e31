"""``budgetflow stats``: the table a designer reads and the JSON a tool reads, on the known set of instances."""

from __future__ import annotations

import json
import re

from engine.cli import i18n
from tests.cli.support import run
from tests.step_stats.support import known_instances


def row(out: str, element_id: str) -> list[str]:
    line = next(x for x in out.splitlines() if x.split()[:1] == [element_id])
    return re.split(r"\s{2,}", line.strip())


def test_the_table_shows_passed_waits_waiting_now_and_paths(app, cli_env, monkeypatch, capsys):
    known_instances(app)
    done = run(monkeypatch, capsys, cli_env, "stats", "--version", "1")
    assert done.code == 0, done.err
    assert done.out.startswith("version 1 (") and "5 instance(s)" in done.out and "process mini_claim" in done.out
    assert row(done.out, "fill_claim") == ["fill_claim", "user task", "4", "2 min", "4 min", "1"]
    assert row(done.out, "approve_by_manager") == ["approve_by_manager", "user task", "3", "1 h 00 min",
                                                   "2 h 00 min", "1"]
    assert row(done.out, "write_off") == ["write_off", "service task", "2", "1 min", "1 min", "0"]
    assert row(done.out, "post_voucher") == ["post_voucher", "service task", "0", "-", "-", "2"]
    lines = done.out.splitlines()
    gateway = next(i for i, x in enumerate(lines) if x.split()[:1] == ["decided"])
    assert lines[gateway + 1].split() == ["→", "write_off", "taken", "2", "66.7%"]
    assert lines[gateway + 2].split() == ["→", "set_rejected", "taken", "1", "33.3%"]


def test_json_carries_every_figure(app, cli_env, monkeypatch, capsys):
    known_instances(app)
    done = run(monkeypatch, capsys, cli_env, "stats", "--json", "--process", "mini_claim")
    assert done.code == 0 and done.err == ""
    (version,) = json.loads(done.out)["versions"]
    elements = {e["element_id"]: e for e in version["elements"]}
    assert elements["approve_by_manager"] == {
        "process_id": "mini_claim", "element_id": "approve_by_manager", "name": "Manager approval",
        "kind": "userTask", "lane": "manager", "passed": 3, "passes": 3, "waiting_now": 1,
        "median_wait_seconds": 3600.0, "p95_wait_seconds": 7200.0}
    flows = {f["flow_id"]: (f["taken"], round(f["share"], 4)) for f in version["flows"]}
    assert flows == {"f5": (2, 0.6667), "f_reject": (1, 0.3333)}


def test_chinese_table_and_an_unknown_version(app, cli_env, monkeypatch, capsys):
    known_instances(app)
    try:
        shown = run(monkeypatch, capsys, cli_env, "--lang", "zh", "stats")
        assert shown.code == 0 and "流程 mini_claim" in shown.out
        assert row(shown.out, "fill_claim")[1:4] == ["用户任务", "4", "2 分钟"]
    finally:
        i18n.use("en")
    refused = run(monkeypatch, capsys, cli_env, "stats", "--version", "7")
    assert refused.code == 2 and refused.out == ""
    assert "there is no model version 7" in refused.err and "Traceback" not in refused.err
