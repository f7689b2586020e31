"""The OA settings file: read whole or refused with the file and the key named; secrets from the environment."""

from __future__ import annotations

import pytest

from engine.config import SettingInvalid
from engine.oa_settings import load_oa_connections

WECOM = """[wecom]
corp_id = "ww0123"
agent_id = 1000002
secret = "s3cret-value"
callback_token = "tok"
encoding_aes_key = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
base_url = "http://127.0.0.1:9/"
"""


def _write(tmp_path, text: str, mode: int = 0o600):
    path = tmp_path / "oa.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_no_file_and_no_variables_means_no_oa(tmp_path):
    assert load_oa_connections(tmp_path, {}) == {}


def test_the_default_file_is_read_with_defaults_filled_and_secrets_kept_out_of_repr(tmp_path):
    _write(tmp_path, WECOM)
    wecom = load_oa_connections(tmp_path, {})["wecom"]
    assert wecom["agent_id"] == "1000002" and wecom["base_url"] == "http://127.0.0.1:9"
    assert "s3cret" not in repr(wecom) and "tok" not in repr(wecom)


def test_the_environment_wins_over_the_file_and_can_configure_a_vendor_alone(tmp_path):
    _write(tmp_path, WECOM)
    env = {"BUDGETFLOW_OA_WECOM_SECRET": "from-env", "BUDGETFLOW_OA_FEISHU_APP_ID": "cli_1",
           "BUDGETFLOW_OA_FEISHU_APP_SECRET": "x", "BUDGETFLOW_OA_FEISHU_VERIFICATION_TOKEN": "v",
           "BUDGETFLOW_OA_FEISHU_ENCRYPT_KEY": "k"}
    found = load_oa_connections(tmp_path, env)
    assert found["wecom"]["secret"] == "from-env"
    assert found["feishu"]["base_url"] == "https://open.feishu.cn"


@pytest.mark.parametrize(("text", "message"), [
    ("[wecom\n", "not valid TOML"),
    ("[lotus]\nx = 1\n", "unknown vendor [lotus]"),
    ('[wecom]\ncorp_id = "a"\n', "[wecom] needs agent_id"),
    (WECOM + 'colour = "red"\n', "unknown setting 'colour'"),
    (WECOM.replace('"http://127.0.0.1:9/"', '"ftp://x"'), "base_url must be an http(s) URL"),
    (WECOM.replace('"tok"', "[1, 2]"), "callback_token must be text"),
    ("wecom = 3\n", "[wecom] must be a table"),
])
def test_a_bad_file_is_refused_naming_the_file_and_the_key(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(SettingInvalid) as refused:
        load_oa_connections(tmp_path, {})
    assert message in str(refused.value) and (str(path) in str(refused.value))


def test_a_file_with_secrets_that_others_can_read_is_refused(tmp_path):
    path = _write(tmp_path, WECOM, mode=0o644)
    with pytest.raises(SettingInvalid, match="chmod 600"):
        load_oa_connections(tmp_path, {})
    path.write_text('[wecom]\ncorp_id = "ww0123"\nagent_id = "1"\n', encoding="utf-8")  # no secret: fine
    env = {"BUDGETFLOW_OA_WECOM_SECRET": "a", "BUDGETFLOW_OA_WECOM_CALLBACK_TOKEN": "b",
           "BUDGETFLOW_OA_WECOM_ENCODING_AES_KEY": "c"}
    assert load_oa_connections(tmp_path, env)["wecom"]["corp_id"] == "ww0123"


def test_a_named_file_that_is_missing_is_an_error_not_silence(tmp_path):
    with pytest.raises(SettingInvalid, match="cannot read"):
        load_oa_connections(tmp_path, {"BUDGETFLOW_OA_CONFIG": str(tmp_path / "nope.toml")})
