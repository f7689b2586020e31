"""A Yonyou emulator on loopback (one server for the session, a fresh emulator per test) and clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.emulators.base import Running
from connectors.emulators.yonyou import (
    APP_KEY,
    APP_SECRET,
    FROM_ACCOUNT,
    TENANT_ID,
    TO_ACCOUNT,
    U8_APP_KEY,
    U8_APP_SECRET,
    YonyouEmulator,
)


class Switch:
    """Hands each request to the emulator of the moment: starting a server per test costs more than a test."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def _server() -> Iterator[tuple[Switch, Running]]:
    switch = Switch()
    with Running(switch) as served:  # type: ignore[arg-type]
        yield switch, served


@pytest.fixture
def emulator(_server: tuple[Switch, Running]) -> YonyouEmulator:
    _server[0].app = YonyouEmulator()
    return _server[0].app


@pytest.fixture
def url(_server: tuple[Switch, Running], emulator: YonyouEmulator) -> str:
    return _server[1].url


@pytest.fixture
def yonbip_settings(url: str) -> dict[str, Any]:
    return {"connector": "yonbip", "auth_url": url, "tenant_id": TENANT_ID, "app_key": APP_KEY,
            "app_secret": APP_SECRET, "book": "BOOK01", "timeout_seconds": 5}


@pytest.fixture
def u8_settings(url: str) -> dict[str, Any]:
    return {"connector": "yonyou_u8", "base_url": url, "from_account": FROM_ACCOUNT, "to_account": TO_ACCOUNT,
            "app_key": U8_APP_KEY, "app_secret": U8_APP_SECRET, "book": "1", "enter": "demo",
            "timeout_seconds": 5}
