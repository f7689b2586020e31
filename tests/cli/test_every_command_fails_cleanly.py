"""Every subcommand, run where it cannot work, says so in one line with the documented exit code.

Three situations an operator meets first: a database that was never initialised, a database URL
that is wrong (no such dialect; a server that is not there), and a malformed BUDGETFLOW_* setting.
Each command gets valid arguments (built from its own parameters), so what fails is the situation,
not the call. Exit codes (docs/cli.md): 2 for configuration and usage, 1 for an outage, 0 when the
command needs nothing of what is wrong (``bpmn check`` reads no database; ``info`` reports).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from engine.cli.app import cli
from engine.seed import demo_folder
from tests.cli.support import run

# Arguments that keep the slow commands short; the rest get one value per required parameter.
SHORT = {
    ("simulate",): ["--claims", "1"],
    ("bench", "budget-contention"): ["--seconds", "0.05"],
    ("bench", "lifecycle"): ["--count", "1"],
    ("bench", "inbox"): ["--open", "20", "--history", "20", "--queries", "1"],
    ("bench", "posting"): ["--vouchers", "2"],
    ("worker",): ["--once"],
}
LONG_RUNNING = {("scheduler",), ("worker",)}  # they wait out an outage instead of exiting: not in the outage case
# The web app's commands serve until stopped; they join the tree when web.cli was imported first (as
# tests/cli/catalog_support.py does), and tests/web covers how they start and fail.
SERVING = {("serve",), ("demo",)}


def leaves(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaves(command, (*path, name))
        else:
            yield (*path, name), command


COMMANDS = dict(leaves(cli))


def arguments(path: tuple[str, ...], command: click.Command, folder: Path) -> list[str]:
    """Valid values for every required parameter: what the command needs to get as far as the database."""
    args = list(SHORT.get(path, []))
    for param in command.params:
        if not param.required:
            continue
        value = _value(param, folder)
        args += [value] if isinstance(param, click.Argument) else [param.opts[0], value]
    return args


def _value(param: click.Parameter, folder: Path) -> str:
    if isinstance(param.type, click.Choice):
        return str(param.type.choices[0])
    if isinstance(param.type, click.types.IntParamType | click.types.FloatParamType):
        return "1"
    if isinstance(param.type, click.Path):
        return str(demo_folder()) if param.type.dir_okay else str(folder / "file")
    return "E0001"  # an employee code, a task guid, a reason: any text


SITUATIONS = {
    "before init": ({}, {0, 2}),
    "no such dialect": ({"BUDGETFLOW_DATABASE_URL": "nosuchdialect://user:secret@host/db"}, {0, 2}),
    "malformed setting": ({"BUDGETFLOW_OUTBOX_MAX_ATTEMPTS": "abc"}, {0, 2}),
    # 2 only for a configuration problem met before the database (no audit key for a server database)
    "server not there": ({"BUDGETFLOW_DATABASE_URL": "postgresql://user:secret@127.0.0.1:1/db"}, {0, 1, 2}),
}


def test_the_tree_is_walked():
    assert len(COMMANDS) >= 25 and ("ledger", "balances") in COMMANDS and ("worker",) in COMMANDS


@pytest.mark.slow
@pytest.mark.parametrize("situation", SITUATIONS)
@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_a_command_in_a_bad_situation_prints_one_line(path, situation, tmp_path, monkeypatch, capsys):
    if situation == "server not there" and path in LONG_RUNNING:
        pytest.skip("a worker waits out an unreachable database; tests/worker covers it")
    if path in SERVING:
        pytest.skip("serves until stopped; tests/web covers it")
    env, codes = SITUATIONS[situation]
    env = {"BUDGETFLOW_INSTANCE_DIR": str(tmp_path / "instance"), "BUDGETFLOW_SCRIPT_EVALUATORS": "0", **env}
    done = run(monkeypatch, capsys, env, *path, *arguments(path, COMMANDS[path], tmp_path))
    assert done.code in codes, f"exit {done.code}: {done.err}"
    assert "Traceback" not in done.err and "secret" not in done.err + done.out
    if done.code:
        assert len(done.err.strip().splitlines()) == 1, done.err
        assert done.err.startswith("error: "), done.err
    if "cannot reach" in done.err:
        assert done.code == 1, "an outage is a failure to finish, not a configuration error"
