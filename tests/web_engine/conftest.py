"""Fixtures for the engine side of the web app: the demo company, with or without the real diagrams."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from engine.bootstrap import Container
from engine.persistence.tables import Employee
from engine.services.masterdata.importing import seed_demo
from tests.flows.conftest import flow, flows_app  # noqa: F401 - the real diagrams, as the flow tests have them


@pytest.fixture
def company(container: Container) -> Container:
    """The demo company (青禾智造) without diagrams."""
    seed_demo(container.masterdata_store)
    return container


def deactivate(app: Container, code: str) -> None:
    with app.engine.begin() as conn:
        conn.execute(update(Employee).where(Employee.code == code).values(active=False))
