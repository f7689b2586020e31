"""Someone the org sync deactivated can no longer sign in through their OA, even while the OA still lets them
sign in (a mistake in the OA, a code issued before): over real HTTP, against each vendor's emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.emulators.base import Running
from engine.oa_settings import load_oa_connections
from engine.services import oa_org_sync
from tests.oa_engine.org_sync_support import (
    SUITES,
    dept_of,
    feishu_user_id,
    post,
    seed_demo_directory,
    write_settings,
)
from tests.web.oa.serving import served
from tests.web.oa.test_sso import VENDORS, begin, browser, come_back, signed_in_as

PERSON = "E0017"  # 何鹏, SALES-N


def code_for(vendor: str, url: str, oa_id: str, redirect: str) -> str:
    """A sign-in code from the emulator, as its sign-in page would give the browser."""
    body = {"dingtalk": {"user_id": oa_id, "web": True}, "wecom": {"userid": oa_id},
            "feishu": {"user_id": feishu_user_id(oa_id), "redirect_uri": redirect}}[vendor]
    return str(post(f"{url}/_emulator/oauth/code", body)["code"])


@pytest.fixture(params=sorted(SUITES))
def synced(request, demo) -> Iterator[tuple[str, str, str, dict[str, str]]]:
    """(vendor, emulator URL, budgetflow URL, employee code -> OA id), the demo company in the directory."""
    suite = SUITES[request.param]
    with Running(suite.emulator()) as emulator:
        ids = seed_demo_directory(suite, emulator.url)
        write_settings(demo.settings.instance_dir, suite, emulator.url)
        with served(demo) as site:
            yield suite.name, emulator.url, site, ids


def sign_in(vendor: str, emulator: str, site: str, oa_id: str):
    http = browser()
    redirect, state = begin(http, site, VENDORS[vendor])
    answer = come_back(http, redirect, VENDORS[vendor], code_for(vendor, emulator, oa_id, redirect), state)
    return http, answer


def test_a_person_the_sync_deactivated_cannot_sign_in_through_the_oa(synced, demo):
    vendor, emulator, site, ids = synced
    suite = SUITES[vendor]
    http, before = sign_in(vendor, emulator, site, ids[PERSON])
    assert before.status_code == 302 and "何鹏" in signed_in_as(http, site)  # the control: he could
    suite.disable(emulator, ids[PERSON])
    report = oa_org_sync.sync_all(demo.uow, load_oa_connections(demo.settings.instance_dir), demo.oa_tokens())
    assert [(c.kind, c.employee) for c in report.suites[0].changes if c.employee == PERSON] == [
        ("deactivated", PERSON)]
    assert signed_in_as(http, site) is None  # the session he had ends with his employment
    suite.person(emulator, ids[PERSON], "何鹏", dept_of(suite, "SALES-N"))  # the OA lets him in again

    http, after = sign_in(vendor, emulator, site, ids[PERSON])

    assert after.status_code == 403 and ids[PERSON] in after.text and "active employee" in after.text
    assert signed_in_as(http, site) is None
