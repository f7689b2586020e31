"""Each OA suite as the end-to-end tests of modes 1 and 2 drive it: budgetflow's settings for its emulator, where
the emulator posts callbacks, how a person is added, how the OA approver acts, and how an employee makes an
approval inside the OA (mode 1: the travel template budgetflow maps `in`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests

from connectors.emulators import dingtalk, feishu, wecom
from connectors.emulators.base import Running
from connectors.oa import wecom_client
from engine.bootstrap import Container
from engine.oa_settings import load_oa_connections
from engine.persistence.oa_stores import SqlTokenCache
from engine.persistence.types import utcnow
from engine.services import outbox, processes
from engine.services.oa_clients import client_for
from tests.web.conftest import web_settings
from web.app import create_app
from web.server import Server

APPLICANT = "E0017"  # 何鹏, in SALES-N, which has a TRAVEL budget line for 2026
OPEN_ID = "ou_4cd0efb6ba3520b2642bbf4f141c7b71"  # 何鹏's Feishu open_id in the demo data dictionary
TOKEN = "budgetflow-callback-token"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
FEISHU_KEY = "budgetflow-feishu-encrypt-key"
TRIP = {"purpose": "客户拜访 customer visit", "destination": "上海", "start_date": "2026-12-10", "amount": "2300.00"}


def _post(url: str, body: dict[str, Any], expect: int = 200) -> dict[str, Any]:
    answer = requests.post(url, json=body, timeout=10)
    assert answer.status_code == expect, answer.text
    return answer.json() if answer.content else {}


@dataclass(frozen=True)
class Suite:
    name: str
    emulator: Callable[[], Any]
    settings: Callable[[str], str]  # oa.toml, given the emulator's URL
    callback: Callable[[str], dict[str, Any]]  # the emulator's callback settings, given budgetflow's callback URL
    add_applicant: Callable[[str], None]
    act_path: str  # the control endpoint the OA approver acts through: {id} and {action}
    originate: Callable[[Any], str]  # make and submit the travel application inside the OA as the applicant


def _wecom_trip(client: Any) -> str:
    start = datetime(2026, 12, 10, tzinfo=UTC) - timedelta(hours=8)  # midnight in China, as WeCom keeps a day
    form = [wecom_client.text("Text-1640339400001", TRIP["purpose"]),
            wecom_client.text("Text-1640339400002", TRIP["destination"]),
            wecom_client.date("Date-1640339400003", start),
            wecom_client.money("Money-1640339400005", Decimal(TRIP["amount"]))]
    return str(client.create_approval(template=wecom.TRAVEL_TEMPLATE_ID, user_id="Hepeng", form=form,
                                      summary=["出差 上海"]))


def _dingtalk_trip(client: Any) -> str:
    form = {"出差事由": TRIP["purpose"], "目的地": TRIP["destination"], "开始日期": TRIP["start_date"],
            "预计费用(元)": Decimal(TRIP["amount"])}
    return str(client.create_approval(process_code="PROC-BUDGETFLOW-TRAVEL", originator_user_id="dt_hepeng",
                                      form=form))


def _feishu_trip(client: Any) -> str:
    form = [{"id": "widget_reason", "type": "input", "value": TRIP["purpose"]},
            {"id": "widget_city", "type": "input", "value": TRIP["destination"]},
            {"id": "widget_start", "type": "date", "value": "2026-12-10T09:00:00+08:00"},
            {"id": "widget_amount", "type": "amount", "value": Decimal(TRIP["amount"])}]
    return str(client.create_approval(template="BUDGETFLOW-TRAVEL-0001", open_id=OPEN_ID, form=form,
                                      key=f"trip-{utcnow().timestamp()}"))


SUITES = {
    "wecom": Suite(
        "wecom", wecom.WeComEmulator,
        lambda url: f'[wecom]\ncorp_id = "{wecom.CORP_ID}"\nagent_id = "{wecom.AGENT_ID}"\n'
                    f'secret = "{wecom.APP_SECRET}"\ncallback_token = "{TOKEN}"\n'
                    f'encoding_aes_key = "{AES_KEY}"\nbase_url = "{url}"\n',
        lambda target: {"url": target, "token": TOKEN, "encoding_aes_key": AES_KEY, "verify": True},
        lambda url: _post(f"{url}/_emulator/users", {"userid": "Hepeng", "name": "何鹏"}) and None,
        "/_emulator/approvals/{id}/{action}", _wecom_trip),
    "dingtalk": Suite(
        "dingtalk", dingtalk.DingTalkEmulator,
        lambda url: f'[dingtalk]\napp_key = "{dingtalk.DEFAULT_APP_KEY}"\n'
                    f'app_secret = "{dingtalk.DEFAULT_APP_SECRET}"\ncallback_token = "{TOKEN}"\n'
                    f'encoding_aes_key = "{AES_KEY}"\nbase_url = "{url}"\n',
        lambda target: {"url": target, "token": TOKEN, "aes_key": AES_KEY, "verify": True},
        lambda url: _post(f"{url}/_emulator/users", {"userid": "dt_hepeng", "name": "何鹏"}) and None,
        "/_emulator/instances/{id}/{action}", _dingtalk_trip),
    "feishu": Suite(
        "feishu", feishu.FeishuEmulator,
        lambda url: f'[feishu]\napp_id = "cli_emulator0001"\napp_secret = "emulator-app-secret"\n'
                    f'verification_token = "{TOKEN}"\nencrypt_key = "{FEISHU_KEY}"\nbase_url = "{url}"\n',
        lambda target: {"url": target, "encrypt_key": FEISHU_KEY, "verification_token": TOKEN, "schema": "2.0",
                        "verify": True},
        lambda url: _post(f"{url}/_emulator/directory/users",
                          {"user_id": "hepeng", "name": "何鹏", "open_id": OPEN_ID}) and None,
        "/_emulator/instances/{id}/{action}", _feishu_trip),
}


@dataclass
class Setup:
    suite: Suite
    emulator_url: str
    site: str
    container: Container

    def act(self, instance_id: str, action: str) -> None:
        """The OA approver(s) decide: approve every node, or reject at the first."""
        url = self.emulator_url + self.suite.act_path.format(id=instance_id, action=action)
        for _ in range(5):  # WeCom and DingTalk templates may have several nodes; a finished one answers 409
            if requests.post(url, json={}, timeout=10).status_code != 200 or action != "approve":
                return

    def faults(self, **switches: Any) -> None:
        _post(f"{self.emulator_url}/_emulator/faults", switches)

    def client(self) -> Any:
        connection = load_oa_connections(self.container.settings.instance_dir)[self.suite.name]
        return client_for(connection, SqlTokenCache(self.container.engine))

    def settle(self, *, later: timedelta | None = None) -> None:
        """Run what the worker runs until nothing is left: connector jobs, stored callbacks and (``later``
        from now) due timers."""
        runner, callbacks = self.container.job_runner(), self.container.oa_callback_worker()
        assert callbacks is not None
        if later is not None:
            processes.fire_due_timers(self.container.uow, now=utcnow() + later)
        for _ in range(20):
            if not outbox.run_due(self.container.uow, runner) + callbacks.run():
                return
        raise AssertionError("the worker never settled")

    def document(self, number: str) -> dict[str, Any]:
        with self.container.uow() as uow:
            found = uow.instances.document(number)
            assert found is not None, number
            return dict(found)


@contextmanager
def running(suite: Suite, container: Container) -> Iterator[Setup]:
    """budgetflow configured for ``suite`` only, served over HTTP, with the suite's emulator posting callbacks
    to it."""
    with Running(suite.emulator()) as emulator:
        settings_file = container.settings.instance_dir / "oa.toml"
        settings_file.write_text(suite.settings(emulator.url), encoding="utf-8")
        settings_file.chmod(0o600)
        server = Server(create_app(container, web=web_settings()), host="127.0.0.1", port=0, threads=4)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            site = server.url.rstrip("/")
            _post(f"{emulator.url}/_emulator/callback", suite.callback(f"{site}/callbacks/{suite.name}"))
            suite.add_applicant(emulator.url)
            setup = Setup(suite, emulator.url, site, container)
            setup.settle()  # the worker is up before anyone approves (it subscribes Feishu's mapped approvals)
            yield setup
        finally:
            server.close()
            thread.join(timeout=10)
