"""Chinese or English: --lang, else BUDGETFLOW_LANG, else the locale; and a catalog that matches the code."""

from __future__ import annotations

import json
import re
import string

import pytest

from engine.cli import i18n
from tests.cli.catalog_support import used_messages
from tests.cli.support import run

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    i18n.use("en")  # the language is process state: leave it as the next test expects


def test_lang_zh_gives_chinese_help_and_output(cli_env, monkeypatch, capsys):
    shown = run(monkeypatch, capsys, {}, "--lang", "zh", "ledger", "--help")
    assert "查看并核验预算台账" in shown.out and "示例" in shown.out and "选项" in shown.out
    verdict = run(monkeypatch, capsys, cli_env, "--lang", "zh", "ledger", "verify")
    assert verdict.code == 0 and verdict.out.startswith("台账核验：OK：已核对 0 条预算行")
    refused = run(monkeypatch, capsys, {"BUDGETFLOW_DATABASE_URL": "mysql://nobody@localhost/x"}, "--lang", "zh",
                  "ledger", "balances")
    assert refused.code == 2 and refused.err.startswith("错误：") and CHINESE.search(refused.err)


def test_json_keys_stay_english_in_chinese(cli_env, monkeypatch, capsys):
    done = run(monkeypatch, capsys, cli_env, "--lang", "zh", "info", "--json")
    assert done.code == 0
    found = json.loads(done.out)
    assert found["language"] == "zh" and found["schema"]["state"] == "current"


@pytest.mark.parametrize(("env", "expected"), [
    ({"BUDGETFLOW_LANG": "zh"}, "zh"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),  # LC_ALL wins over LANG
    ({"BUDGETFLOW_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),  # the setting wins over the locale
    ({"LANG": "de_DE.UTF-8"}, "en"),
    ({}, "en"),
])
def test_the_language_comes_from_the_setting_then_the_locale(env, expected, monkeypatch, capsys):
    shown = run(monkeypatch, capsys, env, "--help")
    assert shown.out.startswith("用法：" if expected == "zh" else "Usage:"), shown.out[:200]
    assert i18n.choose(env) == expected


def test_lang_option_wins_over_the_environment(monkeypatch, capsys):
    shown = run(monkeypatch, capsys, {"LANG": "zh_CN.UTF-8"}, "--lang", "en", "--help")
    assert shown.out.startswith("Usage: budgetflow") and "Inspect and verify the budget ledger." in shown.out


def catalog() -> dict[str, str]:
    translations = i18n.catalog("zh_CN")
    return dict(translations._catalog)  # type: ignore[attr-defined] - GNUTranslations keeps msgid -> msgstr


def test_every_message_of_the_command_line_has_a_chinese_translation():
    translated = {k: v for k, v in catalog().items() if k}
    missing = {msgid: where for msgid, where in used_messages().items() if not translated.get(msgid)}
    assert not missing, "add these to engine/cli/locale/zh_CN/LC_MESSAGES/budgetflow.po:\n" + "\n".join(
        f"{where}: {msgid!r}" for msgid, where in missing.items())


def test_the_catalog_holds_no_message_the_code_no_longer_uses():
    stale = sorted(msgid for msgid in catalog() if msgid and msgid not in used_messages())
    assert not stale, f"remove from the .po (no longer in the code): {stale}"


def test_translations_keep_every_placeholder():
    def fields(text: str) -> set[str]:
        return {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name is not None}

    wrong = {k: v for k, v in catalog().items() if k and fields(k) != fields(v)}
    assert not wrong, wrong
