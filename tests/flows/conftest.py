"""Fixtures for the flow tests: the demo company with the real bpmn/ folder deployed, on every test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.bootstrap import Container
from engine.services import processes
from engine.services.masterdata.importing import seed_demo
from engine.workflow.bundle import read_folder
from tests.flows.support import BPMN, Flow


@pytest.fixture
def flows_app(container: Container) -> Container:
    """A database seeded with the demo company (青禾智造) and the real diagrams of bpmn/ deployed."""
    seed_demo(container.masterdata_store)
    processes.deploy(container.uow, read_folder(BPMN), by="E0016")
    return container


@pytest.fixture
def flow(flows_app: Container) -> Iterator[Flow]:
    flow = Flow(flows_app)
    yield flow
    flow.assert_inbox_index()  # after every path: the candidate index matches the open tasks exactly
