"""``budgetflow erp check`` and ``budgetflow reconcile`` against an ERP configured in erp.toml, as an IT team
would run them: the emulated ERP on loopback, the settings file beside the database."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.services.masterdata.importing import seed_demo
from tests.cli.support import run


def configure(tmp_path: Path, settings: dict, *, private: bool = True) -> dict[str, str]:
    path = tmp_path / "erp.toml"
    lines = ["[erp]"] + [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.chmod(path, 0o600 if private else 0o644)
    return {"BUDGETFLOW_ERP_CONFIG": str(path)}


@pytest.fixture
def seeded(container, cli_env):
    seed_demo(container.masterdata_store)
    return cli_env


def test_erp_check_reaches_the_erp_and_finds_its_posting_rule(seeded, erp, tmp_path, monkeypatch, capsys):
    env = {**seeded, **configure(tmp_path, erp.settings)}
    done = run(monkeypatch, capsys, env, "erp", "check", "--json")
    assert done.code == 0, done.err
    found = json.loads(done.out)
    assert found["connector"] == erp.name and found["erp"]["ok"] is True
    assert found["posting_rule"]["book"] == erp.book


def test_erp_check_names_refused_credentials_without_echoing_the_secret(seeded, erp, tmp_path, monkeypatch,
                                                                        capsys):
    secret_key = "app_secret" if "app_secret" in erp.settings else "password"
    wrong = "not-the-secret-0123456789abcdefXYZ"
    env = {**seeded, **configure(tmp_path, {**erp.settings, secret_key: wrong})}
    done = run(monkeypatch, capsys, env, "erp", "check")
    assert done.code == 1, done.out + done.err
    assert "did not answer" in done.out and wrong not in done.out + done.err


def test_wrong_settings_are_named_and_nothing_runs(seeded, tmp_path, monkeypatch, capsys):
    env = {**seeded, **configure(tmp_path, {"connector": "kingdee", "base_url": "http://127.0.0.1:1"})}
    done = run(monkeypatch, capsys, env, "erp", "check")
    assert done.code == 2 and "acct_id" in done.err, done.err
    env = {**seeded, **configure(tmp_path, {"connector": "kingdee", "app_secret": "s"}, private=False)}
    done = run(monkeypatch, capsys, env, "reconcile")
    assert done.code == 2 and "chmod 600" in done.err, done.err
    env = {**seeded, **configure(tmp_path, {"connector": "nosuch"})}
    done = run(monkeypatch, capsys, env, "erp", "check")
    assert done.code == 2 and "nosuch" in done.err, done.err


def test_reconcile_on_a_clean_book_exits_0_and_on_an_unreachable_erp_1(seeded, erp, tmp_path, monkeypatch,
                                                                        capsys):
    env = {**seeded, **configure(tmp_path, erp.settings)}
    done = run(monkeypatch, capsys, env, "reconcile", "--json")
    assert done.code == 0, done.err
    assert json.loads(done.out)["differences"] == []
    erp.emulator.erp_faults.update({"down_for": 600}, erp.emulator.clock.now())
    done = run(monkeypatch, capsys, env, "reconcile")
    assert done.code == 1 and done.err.startswith("error: ERP_UNAVAILABLE: ") and not done.out, done.err
