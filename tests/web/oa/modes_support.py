"""Each OA suite as the end-to-end tests of modes 1 and 2 drive it, wired as the demo wires it: how the OA
approver acts, and how an employee makes an approval inside the OA (mode 1: the travel template budgetflow maps
`in`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests

from connectors.emulators import wecom
from connectors.oa import wecom_client
from engine.bootstrap import Container
from engine.oa_settings import load_oa_connections
from engine.persistence.oa_stores import SqlTokenCache
from engine.persistence.types import utcnow
from engine.services import outbox, processes
from engine.services.oa_clients import client_for
from tests.web.oa.serving import served
from web.demo_oa import emulated_oa

APPLICANT = "E0017"  # 何鹏, in SALES-N, which has a TRAVEL budget line for 2026
OPEN_ID = "ou_4cd0efb6ba3520b2642bbf4f141c7b71"  # 何鹏's Feishu open_id in the demo data dictionary
TRIP = {"purpose": "客户拜访 customer visit", "destination": "上海", "start_date": "2026-12-10", "amount": "2300.00"}


@dataclass(frozen=True)
class Suite:
    name: str
    act_path: str  # the control endpoint the OA approver acts through: {id} and {action}
    originate: Callable[[Any], str]  # make and submit the travel application inside the OA as the applicant
    leave: tuple[str, dict[str, Any]]  # control path and body: the applicant leaves the OA's directory


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
    "wecom": Suite("wecom", "/_emulator/approvals/{id}/{action}", _wecom_trip,
                   ("/_emulator/users", {"userid": "Hepeng", "status": 2})),
    "dingtalk": Suite("dingtalk", "/_emulator/instances/{id}/{action}", _dingtalk_trip,
                      ("/_emulator/users/dt_hepeng/leave", {})),
    "feishu": Suite("feishu", "/_emulator/instances/{id}/{action}", _feishu_trip,
                    ("/_emulator/directory/users", {"user_id": "u_" + OPEN_ID[3:23], "active": False})),
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

    def applicant_leaves_the_oa(self) -> None:
        path, body = self.suite.leave
        assert requests.post(self.emulator_url + path, json=body, timeout=10).status_code == 200

    def faults(self, **switches: Any) -> None:
        assert requests.post(f"{self.emulator_url}/_emulator/faults", json=switches, timeout=10).status_code == 200

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
    """budgetflow configured for ``suite`` only, as ``budgetflow demo`` wires it (web/demo_oa.py): the emulator
    knows the demo company's people and posts callbacks to budgetflow served over HTTP."""
    with emulated_oa(suite.name, container) as oa, served(container) as site:
        oa.post_callbacks_to(site)
        setup = Setup(suite, oa.url, site, container)
        setup.settle()  # the worker is up before anyone approves (it subscribes Feishu's mapped approvals)
        yield setup
