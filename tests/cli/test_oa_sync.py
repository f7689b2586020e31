"""``budgetflow oa sync`` against the WeCom emulator: a dry run reports and changes nothing, a real run applies
what it reported, a failing suite exits 1 and names the vendor's code, a bad settings file exits 2."""

from __future__ import annotations

import json

import pytest
import requests

from connectors.emulators.base import Running
from tests.cli.support import run
from tests.oa_engine.org_sync_support import SUITES, seed_demo_directory, write_settings

KEY = "k" * 64
SAMPLE_PEOPLE = ["WX-LISI", "WX-WANGWU", "WX-ZHANGSAN", "WX-ZHAOLIU"]  # the emulator's own, in mapped departments


@pytest.fixture
def wecom(cli_env, tmp_path, monkeypatch, capsys):
    env = {**cli_env, "BUDGETFLOW_AUDIT_KEY": KEY}
    assert run(monkeypatch, capsys, env, "seed", "demo").code == 0
    suite = SUITES["wecom"]
    with Running(suite.emulator()) as emulator:
        ids = seed_demo_directory(suite, emulator.url)
        write_settings(tmp_path, suite, emulator.url)
        yield env, emulator.url, ids


def created(document: dict) -> list[str]:
    return sorted(c["employee"] for c in document["suites"][0]["changes"] if c["kind"] == "created")


def test_a_dry_run_changes_nothing_and_a_real_run_applies_what_it_said(wecom, monkeypatch, capsys):
    env, url, ids = wecom
    SUITES["wecom"].disable(url, ids["E0020"])
    dry = run(monkeypatch, capsys, env, "oa", "sync", "--dry-run", "--json")
    assert dry.code == 0, dry.err
    preview = json.loads(dry.out)
    assert preview["dry_run"] is True and preview["configured"] is True and preview["ok"] is True
    assert created(preview) == SAMPLE_PEOPLE

    real = json.loads(run(monkeypatch, capsys, env, "oa", "sync", "--json").out)
    assert created(real) == SAMPLE_PEOPLE  # the dry run had written nothing
    assert real["suites"][0]["changes"] == preview["suites"][0]["changes"]

    again = run(monkeypatch, capsys, env, "oa", "sync")
    assert again.code == 0
    assert "wecom: 0 change(s), 0 task(s) handed on, 0 person(s) not placed" in again.out


def test_the_report_names_each_change(wecom, monkeypatch, capsys):
    env, url, ids = wecom
    SUITES["wecom"].disable(url, ids["E0020"])
    done = run(monkeypatch, capsys, env, "oa", "sync", "--dry-run")
    assert done.code == 0
    assert "E0020 (Luoxin) deactivated: active → disabled in the OA" in done.out
    assert "WX-ZHANGSAN (zhangsan) created: - → SALES-N" not in done.out  # 销售部 (3) is the Sales Division
    assert "WX-ZHANGSAN (zhangsan) created: - → DIV-SALES" in done.out
    assert done.out.rstrip().endswith("dry run: nothing was changed")


def test_a_failing_suite_exits_1_and_bad_settings_exit_2(wecom, monkeypatch, capsys, tmp_path):
    env, url, _ids = wecom
    requests.post(f"{url}/_emulator/faults", json={"throttle_every": 1}, timeout=10).raise_for_status()
    failed = run(monkeypatch, capsys, env, "oa", "sync")
    assert failed.code == 1 and "wecom: OA_THROTTLED" in failed.out
    (tmp_path / "oa.toml").write_text('[wecom]\ncorp_id = "x"\n', encoding="utf-8")
    broken = run(monkeypatch, capsys, env, "oa", "sync")
    assert broken.code == 2 and "[wecom] needs agent_id" in broken.err
