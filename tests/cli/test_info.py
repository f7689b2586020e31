"""``budgetflow info``: which database, instance folder, audit key and model version are in use."""

from __future__ import annotations

import json

from engine.persistence import schema
from engine.services import processes
from engine.workflow.bundle import read_folder
from tests.cli.support import run
from tests.engine_support import FIXTURES

KEY = "0123456789abcdef" * 4


def test_before_init_it_says_so_and_creates_nothing(tmp_path, monkeypatch, capsys):
    instance = tmp_path / "instance"
    done = run(monkeypatch, capsys, {"BUDGETFLOW_INSTANCE_DIR": str(instance)}, "info")
    assert done.code == 0, done.err
    assert "schema:          not initialised — run budgetflow init" in done.out
    assert "model version:   none deployed" in done.out
    assert f"development key file {instance / 'audit.key'}" in done.out
    assert not instance.exists()  # no empty database, no key file, no folder


def test_it_names_the_key_source_never_the_key(cli_env, tmp_path, monkeypatch, capsys):
    from_env = run(monkeypatch, capsys, {**cli_env, "BUDGETFLOW_AUDIT_KEY": KEY}, "info", "--json")
    found = json.loads(from_env.out)
    assert found["audit_key"] == {"source": "environment", "path": None, "exists": None}
    assert KEY not in from_env.out
    key_file = tmp_path / "secret" / "audit.key"
    from_file = run(monkeypatch, capsys, {**cli_env, "BUDGETFLOW_AUDIT_KEY_FILE": str(key_file)}, "info")
    assert f"key file {key_file} (BUDGETFLOW_AUDIT_KEY_FILE) (missing)" in from_file.out
    assert f"audit anchor:    {key_file.parent / 'audit.anchor'}" in from_file.out


def test_it_shows_the_schema_and_the_deployed_model(container, cli_env, monkeypatch, capsys):
    version_id, sha = processes.deploy(container.uow, read_folder(FIXTURES), by="E0016", label="t")
    done = run(monkeypatch, capsys, cli_env, "info", "--json")
    found = json.loads(done.out)
    assert found["schema"] == {"revision": schema.head_revision(), "head": schema.head_revision(), "state": "current",
                               "problem": None}
    assert (found["model"]["id"], found["model"]["sha256"]) == (version_id, sha)
    text = run(monkeypatch, capsys, cli_env, "info").out
    assert f"model version:   {version_id} ({sha[:12]}), deployed " in text


def test_an_unreachable_database_is_reported_on_its_line_with_exit_1(tmp_path, monkeypatch, capsys):
    env = {"BUDGETFLOW_DATABASE_URL": "postgresql://app:pw@127.0.0.1:1/budget",
           "BUDGETFLOW_INSTANCE_DIR": str(tmp_path)}
    done = run(monkeypatch, capsys, env, "info")
    assert done.code == 1
    assert "database:        postgresql+psycopg://app:***@127.0.0.1:1/budget" in done.out
    assert "schema:          unknown: cannot reach the database" in done.out and ":pw@" not in done.out
