"""API fixtures: a bearer token for each demo person (acting with every role they hold) and a JSON client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from engine.bootstrap import Container
from engine.services import accounts
from web.demo import ROLES


def issue(container: Container, code: str, *scopes: str) -> str:
    """A token for ``code`` with ``scopes`` (default: every role they hold)."""
    person = accounts.principal(container.reader, code)
    assert person is not None, code
    wanted = list(scopes) or sorted(person.roles)
    return accounts.issue_token(container.uow, employee=code, label="test", scopes=wanted, by=code)[1]


@dataclass
class Api:
    """The Flask test client speaking JSON with a bearer token per employee code."""

    client: Any
    container: Container
    tokens: dict[str, str]

    def token(self, code: str) -> str:
        if code not in self.tokens:
            self.tokens[code] = issue(self.container, code)
        return self.tokens[code]

    def call(self, method: str, path: str, code: str | None = None, **kwargs: Any):
        headers = dict(kwargs.pop("headers", {}))
        if code is not None:
            headers["Authorization"] = f"Bearer {self.token(code)}"
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def get(self, path: str, code: str | None = None, **kwargs: Any):
        return self.call("GET", path, code, **kwargs)

    def post(self, path: str, code: str | None = None, **kwargs: Any):
        return self.call("POST", path, code, **kwargs)


@pytest.fixture
def api(flask_app, demo: Container) -> Api:
    return Api(flask_app.test_client(), demo, {})


PEOPLE = dict(ROLES)  # role label -> the demo person who holds it


_numbers = iter(range(1, 10_000))
TRIP = {"subject": "TRAVEL", "purpose": "customer visit", "amount": "1200.00", "currency": "CNY", "period": "2026"}


def trip_for_approval(container: Container, *, applicant: str = "E0017", amount: str = "1200.00") -> str:
    """A travel application filled in by ``applicant`` and waiting for approval; returns the open task's guid."""
    from engine.services import processes

    started = processes.start(container.uow, process_id="travel_application", applicant=applicant,
                              business_key=f"TA-T-{next(_numbers):06d}", data={**TRIP, "amount": amount})
    filled = processes.complete_task(container.uow, task_guid=started.open_tasks[0]["task_guid"], user=applicant,
                                     form={})
    return str(filled.open_tasks[0]["task_guid"])
