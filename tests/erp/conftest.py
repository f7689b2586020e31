"""Fixtures for the ERP posting tests: the demo company and its flows (tests/flows), and each ERP's emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.emulators.erp_fixtures import ERPS, EmulatedErp, emulated_erp
from tests.flows.conftest import flow, flows_app  # noqa: F401 - the flow tests' fixtures, shared
from tests.flows.support import Flow


@pytest.fixture(params=ERPS)
def erp(request: pytest.FixtureRequest) -> Iterator[EmulatedErp]:
    with emulated_erp(request.param) as emulated:
        yield emulated


@pytest.fixture
def erp_flow(flow: Flow, erp: EmulatedErp) -> Flow:  # noqa: F811 - the imported fixture, used
    """The demo company posting to ``erp``'s emulator."""
    flow.runner.erp = erp.client()
    return flow
