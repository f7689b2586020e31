"""Signing in through each OA suite's OAuth code flow, over real HTTP against its emulator: the person the data
dictionary names by their OA id is signed in; a code works once; a sign-in begun elsewhere, an unknown person and
someone who left are refused with a clear page and nobody is signed in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.emulators import dingtalk, feishu, wecom
from connectors.emulators.base import Running
from tests.web.oa.serving import served

APPLICANT = "E0017"  # 何鹏: dingtalk_userid dt_hepeng, wecom_userid Hepeng, feishu_open_id below (demo data)
HEPENG_OPEN_ID = "ou_4cd0efb6ba3520b2642bbf4f141c7b71"


@dataclass(frozen=True)
class Vendor:
    name: str
    emulator: Callable[[], object]
    settings: Callable[[str], str]  # the oa.toml table, given the emulator's URL
    add_person: Callable[[str, str], None]  # (emulator URL, OA id as the data dictionary has it)
    code_for: Callable[[str, str, str], str]  # (emulator URL, OA id, our redirect URI) -> a sign-in code
    code_param: str = "code"


def _post(url: str, body: dict) -> dict:
    answer = requests.post(url, json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


VENDORS = {
    "wecom": Vendor(
        "wecom", wecom.WeComEmulator,
        lambda url: f'[wecom]\ncorp_id = "{wecom.CORP_ID}"\nagent_id = "{wecom.AGENT_ID}"\n'
                    f'secret = "{wecom.APP_SECRET}"\ncallback_token = "t"\n'
                    f'encoding_aes_key = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"\nbase_url = "{url}"\n',
        lambda url, oa_id: _post(f"{url}/_emulator/users", {"userid": oa_id, "name": "何鹏"}) and None,
        lambda url, oa_id, _redirect: _post(f"{url}/_emulator/oauth/code", {"userid": oa_id})["code"]),
    "dingtalk": Vendor(
        "dingtalk", dingtalk.DingTalkEmulator,
        lambda url: f'[dingtalk]\napp_key = "{dingtalk.DEFAULT_APP_KEY}"\n'
                    f'app_secret = "{dingtalk.DEFAULT_APP_SECRET}"\ncallback_token = "t"\n'
                    f'encoding_aes_key = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"\n'
                    f'base_url = "{url}"\n',
        lambda url, oa_id: _post(f"{url}/_emulator/users", {"userid": oa_id, "name": "何鹏"}) and None,
        lambda url, oa_id, _redirect: _post(f"{url}/_emulator/oauth/code", {"user_id": oa_id, "web": True})["code"],
        code_param="authCode"),
    "feishu": Vendor(
        "feishu", feishu.FeishuEmulator,
        lambda url: f'[feishu]\napp_id = "cli_emulator0001"\napp_secret = "emulator-app-secret"\n'
                    f'verification_token = "t"\nencrypt_key = "k"\nbase_url = "{url}"\n',
        lambda url, oa_id: _post(f"{url}/_emulator/directory/users",
                                 {"user_id": "hepeng" + oa_id[-4:], "name": "何鹏", "open_id": oa_id}) and None,
        lambda url, oa_id, redirect: _post(f"{url}/_emulator/oauth/code",
                                           {"user_id": "hepeng" + oa_id[-4:], "redirect_uri": redirect})["code"]),
}
OA_IDS = {"wecom": "Hepeng", "dingtalk": "dt_hepeng", "feishu": HEPENG_OPEN_ID}


@pytest.fixture(params=sorted(VENDORS))
def oa(request, demo) -> Iterator[tuple[Vendor, str, str]]:
    """(vendor, its emulator's URL, budgetflow's URL), budgetflow configured for that vendor only."""
    vendor = VENDORS[request.param]
    with Running(vendor.emulator()) as emulator:
        settings_file = demo.settings.instance_dir / "oa.toml"
        settings_file.write_text(vendor.settings(emulator.url), encoding="utf-8")
        settings_file.chmod(0o600)
        with served(demo) as site:
            yield vendor, emulator.url, site


def browser() -> requests.Session:
    """A browser that asks for English pages (the app's default is Chinese)."""
    http = requests.Session()
    http.headers["Accept-Language"] = "en"
    return http


def begin(http: requests.Session, site: str, vendor: Vendor, next_page: str = "/documents/new") -> tuple[str, str]:
    """Click the vendor's button on the sign-in page; (our redirect URI, state) from where it sends the browser."""
    page = http.get(f"{site}/login", timeout=10)
    assert f"/login/oa/{vendor.name}" in page.text  # the button is there
    answer = http.get(f"{site}/login/oa/{vendor.name}", params={"next": next_page}, allow_redirects=False,
                      timeout=10)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    return query["redirect_uri"][0], query["state"][0]


def come_back(http: requests.Session, redirect: str, vendor: Vendor, code: str, state: str) -> requests.Response:
    return http.get(redirect, params={vendor.code_param: code, "state": state}, allow_redirects=False, timeout=10)


def signed_in_as(http: requests.Session, site: str) -> str | None:
    answer = http.get(f"{site}/inbox", allow_redirects=False, timeout=10)
    return None if answer.status_code != 200 else answer.text


def test_the_person_the_data_dictionary_names_signs_in_once_per_code(oa):
    vendor, emulator, site = oa
    oa_id = OA_IDS[vendor.name]
    vendor.add_person(emulator, oa_id)
    http = browser()
    redirect, state = begin(http, site, vendor)
    code = vendor.code_for(emulator, oa_id, redirect)
    back = come_back(http, redirect, vendor, code, state)
    assert back.status_code == 302 and back.headers["Location"].endswith("/documents/new")
    assert "何鹏" in signed_in_as(http, site)
    # the same code again, in a fresh sign-in: the vendor refuses it, and nobody is signed in
    other = browser()
    _redirect, state2 = begin(other, site, vendor)
    again = come_back(other, redirect, vendor, code, state2)
    assert again.status_code == 400 and "sign in again" in again.text
    assert signed_in_as(other, site) is None


def test_a_sign_in_begun_elsewhere_or_by_nobody_is_refused(oa):
    vendor, emulator, site = oa
    oa_id = OA_IDS[vendor.name]
    vendor.add_person(emulator, oa_id)
    attacker, victim = browser(), browser()
    redirect, state = begin(attacker, site, vendor)
    code = vendor.code_for(emulator, oa_id, redirect)
    forced = come_back(victim, redirect, vendor, code, state)  # login CSRF: the victim's browser never began it
    assert forced.status_code == 400 and signed_in_as(victim, site) is None
    _redirect, real_state = begin(victim, site, vendor)
    wrong = come_back(victim, redirect, vendor, code, real_state[:-2] + "xx")
    assert wrong.status_code == 400 and signed_in_as(victim, site) is None


def test_an_oa_user_the_company_does_not_know_is_told_so(oa):
    vendor, emulator, site = oa
    stranger = {"wecom": "Stranger", "dingtalk": "dt_stranger", "feishu": "ou_" + "0" * 32}[vendor.name]
    vendor.add_person(emulator, stranger)
    http = browser()
    redirect, state = begin(http, site, vendor)
    answer = come_back(http, redirect, vendor, vendor.code_for(emulator, stranger, redirect), state)
    assert answer.status_code == 403 and stranger in answer.text and "data dictionary" in answer.text
    assert signed_in_as(http, site) is None


def test_without_settings_there_is_no_button_and_no_sign_in(client):
    assert "/login/oa/" not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/oa/wecom").status_code == 404
