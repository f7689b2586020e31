"""Process versions, publishing a bundle (JSON or zip), incidents and their retry, through the API."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from sqlalchemy import insert, select

from engine.persistence.types import utcnow
from engine.persistence.workflow_tables import HumanTask, OutboxJob
from engine.workflow.bundle import read_folder
from tests.web.api.conftest import trip_for_approval
from tests.web.api.state import snapshot

DESIGNER, ADMIN, AUDITOR, MANAGER = "E0016", "E0015", "E0014", "E0005"
BPMN = Path(__file__).resolve().parents[3] / "bpmn"


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def changed_bundle() -> dict[str, str]:
    files = read_folder(BPMN)
    name = "shared/forms/approve.schema.json"
    schema = json.loads(files[name])
    schema["title"] = "Approve (v2)"
    return {**files, name: json.dumps(schema, ensure_ascii=False, indent=2)}


def test_versions_are_listed_for_designers_admins_and_auditors(api):
    for who in (DESIGNER, ADMIN, AUDITOR):
        listed = api.get("/process-versions", who)
        assert listed.status_code == 200
        [version] = listed.get_json()
        assert version["process_ids"] == ["approval_chain", "expense_claim", "oa_approval", "oa_travel_application",
                                          "travel_application", "travel_application_oa"]
        assert version["deployed_at"].endswith("Z") and version["instances"] == 0
    assert api.get("/process-versions", MANAGER).status_code == 403


def test_a_designer_publishes_a_bundle_as_json_or_as_a_zip(api):
    files = changed_bundle()
    published = api.post("/process-versions", DESIGNER, json={"files": files, "label": "titles v2"})
    assert published.status_code == 201
    assert len(published.get_json()["sha256"]) == 64
    again = api.post("/process-versions?label=zip", DESIGNER, data=zipped(files), content_type="application/zip")
    assert again.status_code == 201 and again.get_json() == published.get_json()  # the same bundle, one version
    versions = api.get("/process-versions", DESIGNER).get_json()
    assert [v["label"] for v in versions] == ["demo", "titles v2"]


def test_an_invalid_bundle_is_refused_whole_with_every_problem(api):
    before = snapshot(api.container)
    files = changed_bundle()
    files["travel_application/travel_application.bpmn"] = files["travel_application/travel_application.bpmn"].replace(
        '<bpmn:userTask id="fill_application"', '<bpmn:userTask id="fill application"', 1)
    refused = api.post("/process-versions", DESIGNER, json={"files": files})
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["code"] == "BPMN_INVALID" and body["details"]["problems"]
    assert all(p.startswith("travel_application/travel_application.bpmn:") for p in body["details"]["problems"])
    assert snapshot(api.container) == before


def test_uploads_with_unsafe_or_unexpected_names_are_refused(api):
    before = snapshot(api.container)
    for name in ("../evil.bpmn", "/etc/x.bpmn", "a\\b.bpmn", "notes.txt", "a/../../b.dmn", ""):
        refused = api.post("/process-versions", DESIGNER, json={"files": {name: "<x/>"}})
        assert refused.status_code == 422, name
        archive = api.post("/process-versions", DESIGNER, data=zipped({name or "x": "<x/>"}),
                           content_type="application/zip")
        assert archive.status_code == 422, name
    assert api.post("/process-versions", DESIGNER, data=b"PK\x03\x04 not really",
                    content_type="application/zip").get_json()["code"] == "UPLOAD_INVALID"
    assert api.post("/process-versions", DESIGNER, json={"files": {}}).status_code == 422
    assert snapshot(api.container) == before


def test_a_zip_bomb_is_refused_from_its_stated_size(api):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.bpmn", "<" + " " * (60 * 1024 * 1024) + "/>")
    refused = api.post("/process-versions", DESIGNER, data=buffer.getvalue(), content_type="application/zip")
    assert refused.status_code == 422 and "unpacks to more than" in refused.get_json()["message"]


def open_incident(api) -> int:
    guid = trip_for_approval(api.container)
    with api.container.engine.begin() as conn:
        instance = conn.execute(select(HumanTask.instance_id).where(HumanTask.task_guid == guid)).scalar_one()
        return conn.execute(insert(OutboxJob).values(
            instance_id=instance, task_guid=guid, operator="notify/Email", params="{}", idempotency_key=f"t:{guid}",
            status="incident", attempts=5, next_attempt_at=utcnow(), last_error="SMTP refused",
            created_at=utcnow(), updated_at=utcnow()).returning(OutboxJob.id)).scalar_one()


def test_incidents_are_listed_and_a_job_is_queued_again(api):
    job = open_incident(api)
    listed = api.get("/incidents", AUDITOR).get_json()
    assert [(j["id"], j["last_error"]) for j in listed["jobs"]] == [(job, "SMTP refused")]
    assert listed["instances"] == []
    before = snapshot(api.container)
    for who in (MANAGER, AUDITOR):
        assert api.post(f"/incidents/{job}/retry", who).status_code == 403
    assert snapshot(api.container) == before
    retried = api.post(f"/incidents/{job}/retry", DESIGNER)
    assert retried.status_code == 200 and retried.get_json() == {"job_id": job, "status": "pending"}
    assert api.get("/incidents", ADMIN).get_json()["jobs"] == []
    assert api.post(f"/incidents/{job}/retry", ADMIN).status_code == 404  # no longer an incident


def test_only_an_admin_retries_an_instance_and_only_one_in_incident(api):
    guid = trip_for_approval(api.container)
    with api.container.engine.connect() as conn:
        instance = conn.execute(select(HumanTask.instance_id).where(HumanTask.task_guid == guid)).scalar_one()
    assert api.post(f"/incidents/instances/{instance}/retry", DESIGNER).status_code == 403
    refused = api.post(f"/incidents/instances/{instance}/retry", ADMIN)
    assert refused.status_code == 403 and "not in incident" in refused.get_json()["message"]
