from __future__ import annotations

import pytest

from connectors.emulators.base import Running
from connectors.emulators.feishu import FeishuEmulator
from connectors.oa.feishu_client import FeishuClient, FeishuClientConfig
from connectors.oa.http import MemoryTokenCache

SECRET = "emulator-app-secret"  # noqa: S105 - the emulator's demo app
TEMPLATE = "BUDGETFLOW-APPROVAL-0001"


@pytest.fixture
def emulator():
    app = FeishuEmulator()
    with Running(app) as running:
        app.url = running.url
        yield app


@pytest.fixture
def slept():
    return []


@pytest.fixture
def client(emulator, slept):
    return FeishuClient(FeishuClientConfig(app_id=emulator.app_id, app_secret=SECRET), base_url=emulator.url,
                        tokens=MemoryTokenCache(), clock=emulator.clock.now, sleep=slept.append)
