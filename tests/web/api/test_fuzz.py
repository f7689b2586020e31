"""Acceptance 4: schemathesis fuzzes the whole API from its own /api/v1/openapi.json, in process (WSGI), with a
valid token: no answer may be a 5xx, and every answer must match what the description says (status, schema).

Each operation gets a bounded number of valid and of invalid examples, so the run stays under a minute.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import insert, select

from engine.domain.identity import ROLES
from engine.persistence.tables import Employee, EmployeeRole
from tests.web.api.conftest import issue, trip_for_approval

FUZZER = "E0005"  # a manager with a task waiting, given every role so that every endpoint is reached
EXAMPLES = 15
CHECKS = [not_a_server_error, response_schema_conformance]


def every_role(container: Any, code: str) -> None:
    with container.engine.begin() as conn:
        person = conn.execute(select(Employee.id).where(Employee.code == code)).scalar_one()
        held = set(conn.execute(select(EmployeeRole.role_code).where(EmployeeRole.employee_id == person)).scalars())
        conn.execute(insert(EmployeeRole), [{"employee_id": person, "role_code": r} for r in sorted(ROLES - held)])


def fuzz(app: Any, token: str, *, examples: int = EXAMPLES, only: str | None = None) -> list[str]:
    """Run every operation (or those whose label contains ``only``); returns the failures, one line each."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if only is not None and only not in operation.label:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

            try:
                run()
            except (Exception, BaseExceptionGroup) as failed:  # noqa: BLE001 - every failure is reported; go on
                failures.append(f"{operation.label} ({mode.value}): {str(failed)[:1500]}")
    return failures


@pytest.mark.slow
def test_the_whole_api_survives_the_fuzzer(api):
    every_role(api.container, FUZZER)
    trip_for_approval(api.container)  # something in the inbox, so pages have rows to describe
    failures = fuzz(api.client.application, issue(api.container, FUZZER))
    assert failures == [], "\n\n".join(failures)


def test_the_fuzzer_reports_a_server_error(api, monkeypatch):
    """The negative control: a view that fails is found by the same run."""
    from engine.services import read_models

    def broken(_reader: Any) -> list[Any]:
        raise RuntimeError("deliberately broken")

    monkeypatch.setattr(read_models, "model_versions", broken)
    failures = fuzz(api.client.application, issue(api.container, "E0016"), examples=3, only="GET /api/v1/process")
    assert failures and "500" in failures[0], failures
