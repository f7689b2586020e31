"""The DingTalk tests' shared pieces: the emulator on loopback, a callback receiver, a client pointed at both."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from connectors.emulators.base import Emulator, Running
from connectors.emulators.dingtalk import DingTalkEmulator
from connectors.oa.callbacks import CallbackRejected, CheckedCallback, MemoryNonceStore
from connectors.oa.dingtalk_callbacks import DingTalkCallbackConfig, approval_change, check
from connectors.oa.dingtalk_client import DingTalkClient, DingTalkClientConfig
from connectors.oa.http import MemoryTokenCache

CALLBACK_TOKEN = "callback-token-abc"
CALLBACK_KEY = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"


class Receiver(Emulator):
    """What the engine's ``/callbacks/dingtalk`` endpoint will do, minus the engine: check, answer, de-duplicate."""

    rules = [Rule("/callbacks/dingtalk", endpoint="callback", methods=["POST"])]

    def __init__(self, config: DingTalkCallbackConfig, clock: Any) -> None:
        super().__init__()
        self.config, self.now = config, clock
        self.nonces = MemoryNonceStore()
        self.accepted: list[CheckedCallback] = []
        self.effects: list[CheckedCallback] = []  # accepted and not seen before (by event key)
        self.refused: list[str] = []
        self._keys: set[str] = set()
        self._receiving = threading.Lock()

    def callback(self, request: Request) -> Response:
        try:
            checked = check(self.config, method=request.method, query=request.args, headers=request.headers,
                            body=request.get_data(), now=self.now(), nonces=self.nonces)
        except CallbackRejected as exc:
            self.refused.append(exc.reason)
            return Response("refused", status=403)
        with self._receiving:
            self.accepted.append(checked)
            if not checked.handshake and checked.event_key not in self._keys:
                self._keys.add(checked.event_key)
                self.effects.append(checked)
        return Response(checked.reply, content_type=checked.content_type)

    def changes(self) -> list[Any]:
        return [approval_change(c) for c in self.effects]


@pytest.fixture
def emulator():
    return DingTalkEmulator()


@pytest.fixture
def running(emulator):
    with Running(emulator) as served:
        yield served


@pytest.fixture
def callback_config(emulator):
    return DingTalkCallbackConfig(app_key=emulator.app_key, token=CALLBACK_TOKEN, encoding_aes_key=CALLBACK_KEY,
                                  corp_id=emulator.corp_id)


@pytest.fixture
def receiver(emulator, running, callback_config):
    app = Receiver(callback_config, emulator.clock.now)
    with Running(app) as served:
        import requests
        answer = requests.post(f"{running.url}/_emulator/callback", timeout=10, json={
            "url": f"{served.url}/callbacks/dingtalk", "token": CALLBACK_TOKEN, "aes_key": CALLBACK_KEY,
            "verify": True})
        assert answer.status_code == 200, answer.text
        yield app


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(emulator, running, sleeps):
    config = DingTalkClientConfig(app_key=emulator.app_key, app_secret=emulator.app_secret, agent_id=emulator.agent_id)
    return DingTalkClient(config, base_url=running.url, tokens=MemoryTokenCache(), clock=emulator.clock.now,
                          sleep=sleeps.append)
