"""Bearer tokens only: no token or a bad one is a 401 with a Bearer challenge, a token's scopes bound what
it may do (403), and a browser session never counts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update

from engine.persistence.tables import Employee, EmployeeRole
from engine.persistence.types import utcnow
from engine.persistence.web_tables import ApiToken
from engine.services import accounts
from tests.web.api.conftest import issue
from tests.web.conftest import login_client

DESIGNER, ADMIN, FINANCE_DIRECTOR, APPLICANT = "E0016", "E0015", "E0009", "E0017"


def test_no_token_is_a_401_with_a_bearer_challenge(api):
    refused = api.get("/process-versions")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="budgetflow"'
    assert refused.get_json()["code"] == "UNAUTHORIZED" and "Bearer" in refused.get_json()["message"]


def test_a_wrong_scheme_or_an_unknown_token_is_a_401(api):
    for header in ("Basic RTAwMTY6eA==", "Bearer", "Bearer bft_unknown", "bft_nothing", "Bearer " + "x" * 5000):
        refused = api.get("/process-versions", headers={"Authorization": header})
        assert refused.status_code == 401, header
        assert refused.headers["WWW-Authenticate"].startswith("Bearer"), header
    invalid = api.get("/process-versions", headers={"Authorization": "Bearer bft_unknown"})
    assert 'error="invalid_token"' in invalid.headers["WWW-Authenticate"]


def test_a_valid_token_passes_and_its_use_is_recorded(api):
    answer = api.get("/process-versions", DESIGNER)
    assert answer.status_code == 200
    assert accounts.list_tokens(api.container.reader, DESIGNER)[0]["last_used_at"] is None  # not while answering
    answer.close()  # the server has sent the answer: now the use is written
    used = accounts.list_tokens(api.container.reader, DESIGNER)
    assert len(used) == 1 and used[0]["last_used_at"] is not None


def test_a_revoked_or_expired_token_is_refused_at_the_next_call(api):
    secret = api.token(DESIGNER)
    assert api.get("/process-versions", DESIGNER).status_code == 200
    token_id = accounts.list_tokens(api.container.reader, DESIGNER)[0]["id"]
    accounts.revoke_token(api.container.uow, token_id=token_id, by=DESIGNER)
    assert api.get("/process-versions", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    api.tokens.clear()
    assert api.get("/process-versions", DESIGNER).status_code == 200  # a new token works
    with api.container.engine.begin() as conn:
        conn.execute(update(ApiToken).where(ApiToken.revoked_at.is_(None))
                     .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert api.get("/process-versions", DESIGNER).status_code == 401


def test_a_token_acts_only_with_its_scopes(api):
    api.tokens[FINANCE_DIRECTOR] = issue(api.container, FINANCE_DIRECTOR, "finance")  # also a manager, not here
    assert api.get("/incidents", FINANCE_DIRECTOR).status_code == 403
    refused = api.post("/process-versions", FINANCE_DIRECTOR, json={"files": {"a.bpmn": "<x/>"}})
    assert refused.status_code == 403
    assert "process_designer" in refused.get_json()["message"] and "finance" in refused.get_json()["message"]


def test_a_role_taken_away_leaves_the_token_at_once(api):
    assert api.get("/process-versions", DESIGNER).status_code == 200
    with api.container.engine.begin() as conn:
        person = conn.execute(select(Employee.id).where(Employee.code == DESIGNER)).scalar_one()
        conn.execute(delete(EmployeeRole).where(EmployeeRole.employee_id == person,
                                                EmployeeRole.role_code == "process_designer"))
    assert api.get("/process-versions", DESIGNER).status_code == 403


def test_a_disabled_employee_s_token_is_refused(api):
    assert api.get("/tasks", APPLICANT).status_code == 200
    with api.container.engine.begin() as conn:
        conn.execute(update(Employee).where(Employee.code == APPLICANT).values(active=False))
    assert api.get("/tasks", APPLICANT).status_code == 401


def test_a_signed_in_browser_session_is_not_an_api_credential(api):
    login_client(api.client, ADMIN)
    assert api.client.get("/api/v1/incidents").status_code == 401
    assert api.get("/incidents", ADMIN).status_code == 200


def test_the_description_and_the_docs_page_need_no_token(api):
    spec = api.client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.get_json()["openapi"].startswith("3.")
    assert spec.get_json()["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    assert api.client.get("/api/v1/docs").status_code == 200
