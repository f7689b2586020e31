"""Fixtures for the engine side of the web app: the demo company, with or without the real diagrams."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import update

from engine.bootstrap import Container
from engine.persistence.tables import Employee
from engine.services import processes
from engine.services.masterdata.importing import seed_demo
from engine.workflow.bundle import read_folder
from tests.flows.support import BPMN, Flow


@pytest.fixture
def company(container: Container) -> Container:
    """The demo company (青禾智造) without diagrams."""
    seed_demo(container.masterdata_store)
    return container


@pytest.fixture
def flows_app(company: Container) -> Container:
    processes.deploy(company.uow, read_folder(BPMN), by="E0016")
    return company


@pytest.fixture
def flow(flows_app: Container) -> Iterator[Flow]:
    flow = Flow(flows_app)
    yield flow
    flow.assert_inbox_index()


def deactivate(app: Container, code: str) -> None:
    with app.engine.begin() as conn:
        conn.execute(update(Employee).where(Employee.code == code).values(active=False))
