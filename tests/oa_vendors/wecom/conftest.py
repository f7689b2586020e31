"""A WeCom emulator on loopback, a client pointed at it, and a callback receiver that runs our check."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from connectors.emulators.base import Running
from connectors.emulators.wecom import AGENT_ID, APP_SECRET, CORP_ID, WeComEmulator
from connectors.oa.callbacks import CallbackRejected, CheckedCallback, MemoryNonceStore
from connectors.oa.http import MemoryTokenCache
from connectors.oa.wecom_callbacks import WeComCallbackConfig, check
from connectors.oa.wecom_client import WeComClient, WeComClientConfig
from tests.oa_vendors.wecom.support import KEY, TOKEN


class CountingSession(requests.Session):
    """Records the path of every request (to count token fetches)."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        self.paths.append(str(url).split("/", 3)[-1])
        return super().request(method, url, *args, **kwargs)


class Receiver:
    """budgetflow's side of the callback, reduced to the check and an event-key de-dup set."""

    def __init__(self, emulator: WeComEmulator) -> None:
        self.emulator = emulator
        self.config = WeComCallbackConfig(corp_id=CORP_ID, token=TOKEN, encoding_aes_key=KEY)
        self.nonces = MemoryNonceStore()
        self.accepted: list[CheckedCallback] = []
        self.refused: list[str] = []
        self.effects: dict[str, CheckedCallback] = {}
        self.fail_next = 0  # answer HTTP 500 this many times first
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            if self.fail_next:
                self.fail_next -= 1
                return Response("busy", 500)(environ, start_response)
            try:
                checked = check(self.config, method=request.method, query=dict(request.args),
                                headers=dict(request.headers), body=request.get_data(),
                                now=self.emulator.clock.now(), nonces=self.nonces)
            except CallbackRejected as refused:
                self.refused.append(refused.reason)
                return Response(refused.reason, 400)(environ, start_response)
            if not checked.handshake:
                self.accepted.append(checked)
                self.effects.setdefault(checked.event_key, checked)
            return Response(checked.reply, 200, content_type=checked.content_type)(environ, start_response)


class Switch:
    """A WSGI app that hands each request to the app of the moment: one loopback server for the session, a
    fresh emulator (or receiver) per test (stopping a server costs half a second)."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def _emulator_server() -> Iterator[tuple[Switch, Running]]:
    switch = Switch()
    with Running(switch) as served:  # type: ignore[arg-type]
        yield switch, served


@pytest.fixture(scope="session")
def _receiver_server() -> Iterator[tuple[Switch, Running]]:
    switch = Switch()
    with Running(switch) as served:  # type: ignore[arg-type]
        yield switch, served


@pytest.fixture
def emulator() -> WeComEmulator:
    return WeComEmulator()


@pytest.fixture
def running(emulator: WeComEmulator, _emulator_server: tuple[Switch, Running]) -> Running:
    switch, served = _emulator_server
    switch.app = emulator
    return served


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def session() -> CountingSession:
    return CountingSession()


@pytest.fixture
def client(emulator: WeComEmulator, running: Running, sleeps: list[float], session: CountingSession) -> WeComClient:
    return WeComClient(WeComClientConfig(CORP_ID, APP_SECRET, AGENT_ID), base_url=running.url,
                       tokens=MemoryTokenCache(), session=session, clock=emulator.clock.now, sleep=sleeps.append)


@pytest.fixture
def receiver(emulator: WeComEmulator, _receiver_server: tuple[Switch, Running]) -> tuple[Receiver, str]:
    switch, served = _receiver_server
    switch.app = Receiver(emulator)
    return switch.app, served.url + "/callbacks/wecom"
