"""No request is a 500: bodies too large, not JSON, of another type, of wrong types or with unknown fields,
unknown ids and paths, wrong methods and bad cursors are all 4xx with a JSON {code, message, details}, and
change nothing."""

from __future__ import annotations

import pytest

from tests.web.api.conftest import trip_for_approval
from tests.web.api.state import snapshot

MANAGER, ADMIN, DESIGNER = "E0005", "E0015", "E0016"
UNKNOWN_GUID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def task(api) -> str:
    return trip_for_approval(api.container)


def assert_error(answer, status: int, code: str | None = None) -> dict:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == "application/json"
    body = answer.get_json()
    assert set(body) == {"code", "message", "details"} and body["message"]
    if code is not None:
        assert body["code"] == code, body
    return body


def test_malformed_bodies_are_refused_and_change_nothing(api, task):
    before = snapshot(api.container)
    path = f"/tasks/{task}/complete"
    assert_error(api.post(path, MANAGER, data=b'{"decision": "approve",', content_type="application/json"), 400)
    assert_error(api.post(path, MANAGER, data=b"\xff\xfe{}", content_type="application/json"), 400)
    assert_error(api.post(path, MANAGER, data="decision=approve", content_type="application/x-www-form-urlencoded"),
                 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_error(api.post(path, MANAGER, data="approve", content_type="text/plain"), 415)
    wrong_type = assert_error(api.post(path, MANAGER, json={"decision": 5, "data": []}), 422)
    assert set(wrong_type["details"]["json"]) == {"decision", "data"}
    unknown = assert_error(api.post(path, MANAGER, json={"decision": "approve", "sneaky": True}), 422)
    assert "sneaky" in unknown["details"]["json"]
    assert_error(api.post(path, MANAGER, json=["approve"]), 422)
    assert_error(api.post(path, MANAGER, json={"decision": "approve", "comment": "x" * 2001}), 422)
    assert snapshot(api.container) == before


def test_an_oversized_body_is_a_413_before_it_is_read(api, task):
    before = snapshot(api.container)
    big = b'{"data": {"comment": "' + b"x" * (1024 * 1024) + b'"}}'
    body = assert_error(api.post(f"/tasks/{task}/complete", MANAGER, data=big, content_type="application/json"), 413)
    assert "1048576" in body["message"]
    upload = b"x" * (12 * 1024 * 1024 + 1)  # uploads may be larger, not without bound
    assert_error(api.post("/process-versions", DESIGNER, data=upload, content_type="application/zip"), 413)
    assert snapshot(api.container) == before


def test_unknown_ids_paths_and_methods(api, task):
    before = snapshot(api.container)
    assert_error(api.post(f"/tasks/{UNKNOWN_GUID}/complete", MANAGER, json={"decision": "approve"}), 403)
    assert_error(api.post("/tasks/not-a-guid/complete", MANAGER, json={}), 404)
    assert_error(api.post("/incidents/999999/retry", ADMIN), 404)
    assert_error(api.post("/incidents/instances/999999/retry", ADMIN), 404, "UNKNOWN_INSTANCE")
    assert_error(api.get("/nothing-here", MANAGER), 404, "NOT_FOUND")
    assert_error(api.get("/nothing-here"), 404)  # no token needed to learn that a path does not exist
    not_allowed = api.call("DELETE", f"/tasks/{task}/complete", MANAGER)
    assert_error(not_allowed, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in not_allowed.headers["Allow"]
    assert snapshot(api.container) == before


@pytest.mark.parametrize("query", ["cursor=garbage", "cursor=" + "A" * 400, "view=everything", "sort=colour",
                                   "limit=0", "limit=201", "limit=ten", "descending=maybe", "text=" + "x" * 101])
def test_bad_paging_and_filters_are_4xx(api, task, query):
    answer = api.get(f"/tasks?{query}", MANAGER)
    body = assert_error(answer, 400 if query.startswith("cursor") else 422)
    assert body["details"] or query.startswith("cursor")


def test_a_cursor_of_another_listing_is_refused(api, task):
    trip_for_approval(api.container)
    first = api.get("/tasks?limit=1", MANAGER)
    assert first.status_code == 200 and first.get_json()["next_cursor"]
    cursor = first.get_json()["next_cursor"]
    assert_error(api.get(f"/tasks?limit=1&sort=due&cursor={cursor}", MANAGER), 400, "BAD_REQUEST")
