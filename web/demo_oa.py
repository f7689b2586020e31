"""An emulated OA suite for ``budgetflow demo``: a new user approves inside the "OA" and watches the document.

The demo starts the chosen suite's emulator on loopback, writes its settings to ``demo-oa.toml`` in the
instance folder (never over a company's own ``oa.toml``: a configured OA leaves the demo alone), puts the
demo company's people in its directory, each in their unit's department (so the worker's org sync changes
none of them), and has it post signed callbacks to the demo's ``/callbacks/<vendor>``.
The emulator keeps its approvals in memory: after a restart, an approval still open in the old one is
reported unknown by the poll and the document ends ``oa_failed``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from connectors.emulators import dingtalk, feishu, wecom
from connectors.emulators.base import Running
from engine.bootstrap import Container
from engine.oa_settings import oa_config_path
from engine.persistence.people_lookups import oa_departments, oa_people

DEMO_SUITES = ("wecom", "dingtalk", "feishu")
CALLBACK_TOKEN = "budgetflow-demo-callback"  # noqa: S105 - the demo's own emulator, on loopback only
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"  # a published WeCom sample key: demo only
FEISHU_KEY = "budgetflow-demo-encrypt-key"
TIMEOUT = 10


@dataclass(frozen=True)
class DemoSuite:
    emulator: Callable[[], Any]
    settings: Callable[[str], str]  # oa.toml text for the emulator's URL
    callback: Callable[[str], dict[str, Any]]  # the emulator's callback settings for our callback URL
    person: Callable[[str, str, str | None], tuple[str, dict[str, Any]]]  # (OA id, name, dept) -> (path, body)
    department: Callable[[str, str, str | None], tuple[str, dict[str, Any]]]  # (id, name, parent) -> (path, body)
    root: str  # the department the emulator starts with at the top; the demo's company maps it


SUITES = {
    "wecom": DemoSuite(
        wecom.WeComEmulator,
        lambda url: f'[wecom]\ncorp_id = "{wecom.CORP_ID}"\nagent_id = "{wecom.AGENT_ID}"\n'
                    f'secret = "{wecom.APP_SECRET}"\ncallback_token = "{CALLBACK_TOKEN}"\n'
                    f'encoding_aes_key = "{AES_KEY}"\nbase_url = "{url}"\n',
        lambda target: {"url": target, "token": CALLBACK_TOKEN, "encoding_aes_key": AES_KEY, "verify": False},
        lambda oa_id, name, dept: ("/_emulator/users", {"userid": oa_id, "name": name,
                                                         **({"department": [int(dept)]} if dept else {})}),
        lambda dept, name, parent: ("/_emulator/departments", {"id": int(dept), "name": name,
                                                               "parentid": int(parent or 1)}),
        "1"),
    "dingtalk": DemoSuite(
        dingtalk.DingTalkEmulator,
        lambda url: f'[dingtalk]\napp_key = "{dingtalk.DEFAULT_APP_KEY}"\n'
                    f'app_secret = "{dingtalk.DEFAULT_APP_SECRET}"\ncallback_token = "{CALLBACK_TOKEN}"\n'
                    f'encoding_aes_key = "{AES_KEY}"\nbase_url = "{url}"\n',
        lambda target: {"url": target, "token": CALLBACK_TOKEN, "aes_key": AES_KEY, "verify": False},
        lambda oa_id, name, dept: ("/_emulator/users", {"userid": oa_id, "name": name,
                                                         **({"dept_id_list": [int(dept)]} if dept else {})}),
        lambda dept, name, parent: ("/_emulator/departments", {"dept_id": int(dept), "name": name,
                                                               "parent_id": int(parent or 1)}),
        "1"),
    "feishu": DemoSuite(
        feishu.FeishuEmulator,
        lambda url: f'[feishu]\napp_id = "cli_emulator0001"\napp_secret = "emulator-app-secret"\n'
                    f'verification_token = "{CALLBACK_TOKEN}"\nencrypt_key = "{FEISHU_KEY}"\nbase_url = "{url}"\n',
        lambda target: {"url": target, "encrypt_key": FEISHU_KEY, "verification_token": CALLBACK_TOKEN,
                        "schema": "2.0", "verify": False},
        lambda oa_id, name, dept: ("/_emulator/directory/users",
                                   {"user_id": "u_" + oa_id.removeprefix("ou_")[:20], "name": name, "open_id": oa_id,
                                    **({"department_ids": [dept]} if dept else {})}),
        lambda dept, name, parent: ("/_emulator/directory/departments", {"department_id": dept, "name": name,
                                                                         "parent_id": parent or "0"}),
        "0"),
}


def company_oa_configured(instance_dir: Path) -> bool:
    """Whether the company set up a real OA (then the demo starts no emulator)."""
    return oa_config_path(instance_dir, os.environ) is not None or any(
        key.startswith("BUDGETFLOW_OA_") for key in os.environ)


@dataclass(frozen=True)
class DemoOa:
    vendor: str
    url: str  # the emulator; its approver page is url + "/_emulator/"

    def post_callbacks_to(self, site: str) -> None:
        """Have the emulator post its signed callbacks to the demo served at ``site``."""
        body = SUITES[self.vendor].callback(f"{site}/callbacks/{self.vendor}")
        requests.post(f"{self.url}/_emulator/callback", json=body, timeout=TIMEOUT).raise_for_status()


@contextmanager
def emulated_oa(vendor: str, container: Container) -> Iterator[DemoOa]:
    """Run ``vendor``'s emulator with the demo company's people in its directory. Sets BUDGETFLOW_OA_CONFIG
    for this process, so the web app and the worker made afterwards use it."""
    suite = SUITES[vendor]
    with Running(suite.emulator()) as running:
        config = container.settings.instance_dir / "demo-oa.toml"
        config.write_text(suite.settings(running.url), encoding="utf-8")
        config.chmod(0o600)
        os.environ["BUDGETFLOW_OA_CONFIG"] = str(config)
        try:
            _fill_directory(suite, vendor, running.url, container)
            yield DemoOa(vendor, running.url)
        finally:
            os.environ.pop("BUDGETFLOW_OA_CONFIG", None)


def _fill_directory(suite: DemoSuite, vendor: str, url: str, container: Container) -> None:
    """Every demo unit's department (the emulator has the top one) and every demo employee in their unit's,
    so that the worker's org sync (docs/oa.md) finds the demo company where the data dictionary puts it."""
    calls = [suite.department(dept, name, parent) for dept, name, parent in oa_departments(container.engine, vendor)
             if dept != suite.root]
    calls += [suite.person(oa_id, name, dept) for oa_id, name, dept in oa_people(container.engine, vendor)]
    for path, body in calls:
        requests.post(url + path, json=body, timeout=TIMEOUT).raise_for_status()
