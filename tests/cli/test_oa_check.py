"""``budgetflow oa check`` against the WeCom and Feishu emulators: working credentials, a refused secret (never
printed), no settings at all, and a settings file with a mistake."""

from __future__ import annotations

import json

import pytest

from connectors.emulators import feishu, wecom
from connectors.emulators.base import Running
from tests.cli.support import run


@pytest.fixture
def emulators():
    with Running(wecom.WeComEmulator()) as wc, Running(feishu.FeishuEmulator()) as fs:
        yield wc.url, fs.url


def settings(tmp_path, wecom_url: str, feishu_url: str, *, wecom_secret: str = wecom.APP_SECRET) -> dict[str, str]:
    path = tmp_path / "oa.toml"
    path.write_text(f'[wecom]\ncorp_id = "{wecom.CORP_ID}"\nagent_id = "{wecom.AGENT_ID}"\nbase_url = "{wecom_url}"\n'
                    f'[feishu]\napp_id = "cli_emulator0001"\nbase_url = "{feishu_url}"\n', encoding="utf-8")
    return {"BUDGETFLOW_INSTANCE_DIR": str(tmp_path), "BUDGETFLOW_OA_WECOM_SECRET": wecom_secret,
            "BUDGETFLOW_OA_WECOM_CALLBACK_TOKEN": "t", "BUDGETFLOW_OA_WECOM_ENCODING_AES_KEY": "k" * 43,
            "BUDGETFLOW_OA_FEISHU_APP_SECRET": "emulator-app-secret",
            "BUDGETFLOW_OA_FEISHU_VERIFICATION_TOKEN": "t", "BUDGETFLOW_OA_FEISHU_ENCRYPT_KEY": "k"}


def test_working_credentials_pass_and_the_urls_to_register_are_printed(monkeypatch, capsys, tmp_path, emulators):
    env = settings(tmp_path, *emulators)
    done = run(monkeypatch, capsys, env, "oa", "check", "--base-url", "https://bf.example.com/")
    assert done.code == 0, done.err
    assert "wecom: the credentials work; register https://bf.example.com/callbacks/wecom" in done.out
    assert "https://bf.example.com/login/oa/feishu/done" in done.out
    report = json.loads(run(monkeypatch, capsys, env, "oa", "check", "--json").out)
    assert [(s["vendor"], s["ok"]) for s in report["suites"]] == [("feishu", True), ("wecom", True)]


def test_a_refused_secret_fails_the_check_by_the_vendors_code_and_is_never_printed(monkeypatch, capsys, tmp_path,
                                                                                   emulators):
    env = settings(tmp_path, *emulators, wecom_secret="wrong-secret-4711")
    done = run(monkeypatch, capsys, env, "oa", "check")
    assert done.code == 1
    assert "wecom: OA_AUTH_FAILED" in done.out and "feishu: the credentials work" in done.out
    assert "wrong-secret-4711" not in done.out + done.err


def test_no_settings_is_said_plainly_and_a_bad_file_is_a_configuration_error(monkeypatch, capsys, tmp_path):
    env = {"BUDGETFLOW_INSTANCE_DIR": str(tmp_path)}
    done = run(monkeypatch, capsys, env, "oa", "check")
    assert done.code == 0 and "no OA suite is configured" in done.out
    (tmp_path / "oa.toml").write_text('[wecom]\ncorp_id = "x"\n', encoding="utf-8")
    done = run(monkeypatch, capsys, env, "oa", "check")
    assert done.code == 2 and "[wecom] needs agent_id" in done.err and "oa.toml" in done.err
