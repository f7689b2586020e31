"""The settings table in ``budgetflow --help`` (engine/settings_help.py) against what the code reads."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from engine.config import Settings
from engine.settings_help import SETTINGS

ENGINE = Path(__file__).resolve().parents[2] / "engine"
# How the engine names a variable: "BUDGETFLOW_X", f"{PREFIX}X", or config's _number(env, "X", ...).
READ = re.compile(r'"BUDGETFLOW_([A-Z_]+)"|PREFIX\}([A-Z_]+)|_number\(env, "([A-Z_]+)"')
NOT_SETTINGS = {"ERROR", "TEST_DATABASE_URL"}  # an error code; the benchmarks' and tests' PostgreSQL
SAMPLES = {int: "7", float: "7.5", str: "sqlite:///elsewhere.db"}
FIELD_SAMPLES = {"public_url": "https://budget.example.com"}  # text fields that must hold a certain kind of text


def test_every_variable_the_engine_reads_is_in_the_table():
    read = {next(g for g in m.groups() if g) for path in ENGINE.rglob("*.py")
            for m in READ.finditer(path.read_text(encoding="utf-8"))}
    # A family of variables (BUDGETFLOW_OA_<VENDOR>_<FIELD>) is read as its fixed prefix (f"{PREFIX}OA_{...}").
    listed = {re.sub(r"<[A-Z]+>_?", "", s.name.removeprefix("BUDGETFLOW_")) for s in SETTINGS}
    assert read - NOT_SETTINGS == listed


def test_every_settings_field_is_listed_once():
    assert sorted(s.field for s in SETTINGS if s.field) == sorted(f.name for f in fields(Settings))


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.field], ids=lambda s: s.name)
def test_each_variable_sets_its_field_and_the_default_shown_is_the_real_one(setting, tmp_path):
    default = getattr(Settings.from_env({}), setting.field)
    kind = type(default)
    if isinstance(default, Path):
        value, expected = str(tmp_path), tmp_path
    else:
        value = FIELD_SAMPLES.get(setting.field, SAMPLES[kind])
        expected = kind(value)
    assert getattr(Settings.from_env({setting.name: value}), setting.field) == expected
    if isinstance(default, int | float) and not isinstance(default, bool):
        shown = setting.default.replace(" MiB", "")
        factor = 1024 * 1024 if setting.default.endswith("MiB") else 1
        assert float(shown) * factor == default
