"""Every group and command explains itself, and every ``--json`` prints one JSON document (acceptance 4)."""

from __future__ import annotations

import json
import re

import click
import pytest

from engine.cli.app import package_version
from engine.config import SHIPPED_BPMN
from engine.seed import demo_folder
from tests.cli.catalog_support import commands
from tests.cli.support import run

# Arguments that make each --json command run against the demo company: every command that has
# --json must be here (test_every_json_command_is_exercised), so a new one cannot go untested.
JSON_RUNS = {
    "budgetflow init": ["init"],
    "budgetflow info": ["info"],
    "budgetflow seed": ["seed", "demo"],
    "budgetflow import-master-data": ["import-master-data", str(demo_folder())],
    "budgetflow ledger verify": ["ledger", "verify"],
    "budgetflow ledger balances": ["ledger", "balances"],
    "budgetflow ledger reservations": ["ledger", "reservations"],
    "budgetflow bpmn check": ["bpmn", "check"],
    "budgetflow bpmn deploy": ["bpmn", "deploy"],
    "budgetflow bpmn list": ["bpmn", "list"],
    "budgetflow bpmn test": ["bpmn", "test"],
    "budgetflow bpmn replay": ["bpmn", "replay", str(SHIPPED_BPMN)],
    "budgetflow bpmn operators": ["bpmn", "operators"],
    "budgetflow bpmn lanes": ["bpmn", "lanes"],
    "budgetflow bpmn activate": ["bpmn", "activate", "1"],
    "budgetflow bpmn diff": ["bpmn", "diff", "1", "1"],
    "budgetflow incidents list": ["incidents", "list"],
    "budgetflow tasks orphaned": ["tasks", "orphaned"],
    "budgetflow tokens list": ["tokens", "list"],
    "budgetflow oa check": ["oa", "check"],
    "budgetflow oa callbacks": ["oa", "callbacks"],
    "budgetflow oa sync": ["oa", "sync"],
    "budgetflow audit verify": ["audit", "verify"],
    "budgetflow audit head": ["audit", "head"],
    "budgetflow simulate": ["simulate", "--claims", "2"],
    "budgetflow bench lifecycle": ["bench", "lifecycle", "--count", "1"],
    "budgetflow bench inbox": ["bench", "inbox", "--open", "200", "--history", "400", "--queries", "3"],
    "budgetflow bench budget-contention": ["bench", "budget-contention", "--seconds", "0.1"],
    "budgetflow bench web": ["bench", "web", "--open", "200", "--history", "400", "--queries", "3"],
    "budgetflow bench posting": ["bench", "posting", "--vouchers", "5"],
    "budgetflow bench workers": ["bench", "workers", "--drivers", "1", "--lifecycles", "1"],
    "budgetflow bench memory": ["bench", "memory", "--claims", "6"],
    "budgetflow reconcile": ["reconcile", "--payments"],
    "budgetflow erp check": ["erp", "check"],
    "budgetflow stats": ["stats"],
}
KEY = "k" * 64


def has_json(command: click.Command) -> bool:
    return any(isinstance(p, click.Option) and "--json" in p.opts for p in command.params)


@pytest.mark.parametrize("path", [path for path, _command in commands()])
def test_every_group_and_command_has_a_description_and_an_example(path, monkeypatch, capsys):
    command = dict(commands())[path]
    assert (command.help or "").strip(), f"{path} has no description"
    assert command.examples and all(e.startswith("budgetflow") or "budgetflow " in e for e in command.examples)
    shown = run(monkeypatch, capsys, {}, *path.split()[1:], "--help")
    assert shown.code == 0 and shown.err == ""
    first = command.help.strip().splitlines()[0]
    assert first.split()[0] in shown.out and "Examples:" in shown.out and command.examples[0] in shown.out


def test_bare_budgetflow_prints_help_and_exits_0(monkeypatch, capsys):
    bare = run(monkeypatch, capsys, {})
    assert bare.code == 0 and bare.out.startswith("Usage: budgetflow") and "Commands:" in bare.out
    assert "BUDGETFLOW_OUTBOX_MAX_ATTEMPTS" in bare.out and "Exit codes:" in bare.out
    group = run(monkeypatch, capsys, {}, "ledger")
    assert group.code == 0 and "balances" in group.out


def test_version(monkeypatch, capsys):
    shown = run(monkeypatch, capsys, {}, "--version")
    assert shown.code == 0 and shown.out.strip() == f"budgetflow {package_version()}"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", package_version())


def test_every_json_command_is_exercised():
    assert sorted(path for path, command in commands() if has_json(command)) == sorted(JSON_RUNS)


def test_every_json_output_parses_as_one_document(cli_env, monkeypatch, capsys):
    env = {**cli_env, "BUDGETFLOW_AUDIT_KEY": KEY}
    assert run(monkeypatch, capsys, env, "seed", "demo").code == 0  # the demo company first
    for path, args in JSON_RUNS.items():
        done = run(monkeypatch, capsys, env, *args, "--json")
        assert done.code == 0, f"{path}: {done.err[-2000:]}"
        document = json.loads(done.out)  # the whole of stdout, nothing before or after
        assert isinstance(document, dict) and document, path
