"""A Kingdee emulator on loopback (one server for the session, a fresh emulator per test) and clients for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from connectors.emulators.base import Running
from connectors.emulators.kingdee import ACCT_ID, APP_ID, APP_SECRET, BOOK, USER_NAME, KingdeeEmulator
from connectors.kingdee import KingdeeClient, read_settings


class Switch:
    """Hands each request to the emulator of the moment (starting a server per test would cost more)."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


class CountingSession(requests.Session):
    """Records the Kingdee operation of every request (the service name's last part)."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        self.ops.append(str(url).rsplit(".common.kdsvc", 1)[0].rsplit(".", 1)[-1])
        return super().request(method, url, *args, **kwargs)


@pytest.fixture(scope="session")
def _server() -> Iterator[tuple[Switch, Running]]:
    switch = Switch()
    with Running(switch) as served:  # type: ignore[arg-type]
        yield switch, served


@pytest.fixture
def emulator() -> KingdeeEmulator:
    return KingdeeEmulator()


@pytest.fixture
def running(emulator: KingdeeEmulator, _server: tuple[Switch, Running]) -> Running:
    switch, served = _server
    switch.app = emulator
    return served


@pytest.fixture
def settings(running: Running) -> dict[str, Any]:
    return {"connector": "kingdee", "base_url": running.url, "acct_id": ACCT_ID, "user_name": USER_NAME,
            "app_id": APP_ID, "app_secret": APP_SECRET, "book": BOOK, "timeout_seconds": 5}


@pytest.fixture
def make_client(settings: dict[str, Any]) -> Callable[..., KingdeeClient]:
    def make(session: requests.Session | None = None, **changes: Any) -> KingdeeClient:
        return KingdeeClient(read_settings({**settings, **changes}), session=session)
    return make


@pytest.fixture
def client(make_client: Callable[..., KingdeeClient]) -> KingdeeClient:
    return make_client()


def set_faults(running: Running, **faults: Any) -> None:
    response = requests.post(f"{running.url}/_emulator/erp-faults", json=faults, timeout=5)
    assert response.status_code == 200, response.text
