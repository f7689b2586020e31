"""Settings from the environment: where things live never depends on the current folder; bad values are named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import SHIPPED_BPMN, SettingInvalid, Settings


def test_without_a_setting_the_instance_folder_is_the_per_user_data_folder(tmp_path):
    settings = Settings.from_env({"XDG_DATA_HOME": str(tmp_path / "data")})
    assert settings.instance_dir == tmp_path / "data" / "budgetflow"
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'budgetflow' / 'budgetflow.db'}"
    assert settings.bpmn_dir == SHIPPED_BPMN and (SHIPPED_BPMN / "expense_claim").is_dir()


def test_explicit_folders_are_made_absolute_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"BUDGETFLOW_INSTANCE_DIR": "inst", "BUDGETFLOW_BPMN_DIR": "~/flows"})
    assert settings.instance_dir == tmp_path / "inst"
    assert settings.bpmn_dir == Path.home() / "flows"


@pytest.mark.parametrize(("name", "raw", "expected"), [
    ("OUTBOX_MAX_ATTEMPTS", "abc", "BUDGETFLOW_OUTBOX_MAX_ATTEMPTS='abc' is not a whole number (default 5)"),
    ("OUTBOX_MAX_ATTEMPTS", "2.5", "is not a whole number"),
    ("OUTBOX_BACKOFF_SECONDS", "nan", "must be a finite number, zero or more"),
    ("OUTBOX_LEASE_SECONDS", "inf", "must be a finite number, zero or more"),
    ("RESERVATION_VALID_DAYS", "-1", "must be a finite number, zero or more"),
])
def test_a_malformed_number_is_named_with_its_default(name, raw, expected):
    with pytest.raises(SettingInvalid, match="BUDGETFLOW_" + name) as caught:
        Settings.from_env({"BUDGETFLOW_" + name: raw})
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_blank_numbers_fall_back_to_their_defaults():
    assert Settings.from_env({"BUDGETFLOW_OUTBOX_MAX_ATTEMPTS": "  "}).outbox_max_attempts == 5


def test_a_command_run_from_another_folder_leaves_that_folder_alone(tmp_path):
    """The finding: run elsewhere, a reading command silently created ./instance/budgetflow.db there."""
    elsewhere, data = tmp_path / "elsewhere", tmp_path / "data"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUDGETFLOW_")}
    env["XDG_DATA_HOME"] = str(data)
    done = subprocess.run([sys.executable, "-m", "engine", "init"], check=False, cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert list(elsewhere.iterdir()) == []
    assert (data / "budgetflow" / "budgetflow.db").is_file()
