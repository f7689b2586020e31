"""Who may do what on the process pages: every role × every page and action; a refusal is 403 and changes nothing.

Process designers see and publish; admins see and retry (jobs and instances); a designer retries jobs but
not instances (the engine's rule); nobody else gets past the door.
"""

from __future__ import annotations

import pytest

from engine.services import read_models
from tests.flows.support import Flow
from tests.web.admin.support import PEOPLE, instance_incident, job_incident, state
from tests.web.admin.test_process_pages import edited_bundle
from tests.web.conftest import csrf_token, login_client
from web.process_pages.uploads import pack

VIEWERS = {"process_designer", "admin"}
PAGES = ["/processes", "/processes/versions/1", "/processes/versions/1/bundle.zip", "/processes/incidents",
         "/processes/upload"]


def signed_in(flask_app, role: str):
    client = flask_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login_client(client, PEOPLE[role])
    return client, csrf_token(client.get("/login").get_data(as_text=True))


@pytest.mark.slow
def test_every_role_against_every_process_page_and_action(flask_app, demo):
    flow = Flow(demo)
    jobs = [job_incident(flow) for _ in range(2)]
    instance = instance_incident(flow)
    bundle = pack(edited_bundle())
    actions = {  # name -> (path, form, the roles it is for)
        "check": ("/processes/upload", {}, VIEWERS),
        "publish": ("/processes/publish", {"bundle": bundle, "label": "matrix"}, {"process_designer"}),
        "activate": ("/processes/versions/1/activate", {}, {"process_designer"}),
        "retry job": (f"/processes/incidents/jobs/{jobs[0]}/retry", {}, VIEWERS),
        "retry instance": (f"/processes/incidents/instances/{instance}/retry", {}, {"admin"}),
    }
    refused_roles = [r for r in PEOPLE if r not in VIEWERS]
    for role in [*refused_roles, *sorted(VIEWERS)]:  # refusals first, while every incident is still open
        client, token = signed_in(flask_app, role)
        for path in PAGES:
            expected = 200 if role in VIEWERS else 403
            assert client.get(path).status_code == expected, (role, path)
        for name, (path, form, allowed) in actions.items():
            before = state(demo)
            if name == "retry job" and role == "admin":
                path = f"/processes/incidents/jobs/{jobs[1]}/retry"  # the designer queued the first one
            answer = client.post(path, data={**form, "csrf_token": token})
            if role in allowed:
                assert answer.status_code in (200, 302, 422), (role, name, answer.status_code)
            else:
                assert answer.status_code == 403, (role, name, answer.status_code)
                assert state(demo) == before, (role, name)
    found = read_models.incidents(demo.reader)
    assert found.jobs == [] and found.instances == []
    assert [v["label"] for v in read_models.model_versions(demo.reader)] == ["demo", "matrix"]


def test_without_a_sign_in_the_process_pages_send_to_the_sign_in(client):
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], path
