"""Process versions, publishing a bundle (JSON or zip) and activating it, incidents and their retry, through the API."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from sqlalchemy import delete, insert, select

from engine.persistence.audit_table import AuditLog
from engine.persistence.types import utcnow
from engine.persistence.workflow_tables import HumanTask, ModelActivation, OutboxJob, ProcessInstance
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


def listed(api) -> list[dict]:
    return api.get("/process-versions", DESIGNER).get_json()


def published(api, files: dict[str, str], **body) -> dict:
    answer = api.post("/process-versions", DESIGNER, json={"files": files, **body})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def started_on(api) -> int:
    """The model version a new travel application starts on now."""
    guid = trip_for_approval(api.container)
    with api.container.engine.connect() as conn:
        return conn.execute(select(ProcessInstance.model_version_id).join(
            HumanTask, HumanTask.instance_id == ProcessInstance.id).where(HumanTask.task_guid == guid)).scalar_one()


def activations_of(api, version_id: int) -> list[tuple[str, str]]:
    with api.container.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(AuditLog.actor, AuditLog.subject_id).where(
            AuditLog.action == "model.activated", AuditLog.subject_id == str(version_id)))]


def test_a_published_version_waits_until_it_is_activated(api):
    [demo] = listed(api)
    assert demo["active_for"] == demo["process_ids"] and demo["running"] == 0
    version = published(api, changed_bundle(), label="titles v2")
    assert len(version["sha256"]) == 64
    assert (version["new"], version["activated"], version["active"], version["first"]) == (True, False, False, False)
    assert started_on(api) == demo["id"]  # new documents still start on the active version
    assert [(v["label"], v["active_for"] != [], v["running"]) for v in listed(api)] == [
        ("demo", True, 1), ("titles v2", False, 0)]
    assert activations_of(api, version["id"]) == []


def test_publishing_with_activate_makes_new_documents_start_on_it(api):
    version = published(api, changed_bundle(), activate=True)
    assert (version["new"], version["activated"], version["active"], version["first"]) == (True, True, True, False)
    demo, new = listed(api)
    assert new["active_for"] == new["process_ids"] and demo["active_for"] == []
    assert started_on(api) == version["id"]
    assert activations_of(api, version["id"]) == [(DESIGNER, str(version["id"]))]


def test_identical_files_name_their_version_and_are_activated_when_asked(api):
    files = changed_bundle()
    version = published(api, files, label="titles v2")
    again = api.post("/process-versions?label=zip", DESIGNER, data=zipped(files), content_type="application/zip")
    assert again.status_code == 200
    assert again.get_json() == {**version, "new": False}
    activated = api.post("/process-versions?activate=true", DESIGNER, data=zipped(files),
                         content_type="application/zip")
    assert activated.status_code == 200
    assert activated.get_json() == {**version, "new": False, "activated": True, "active": True}
    assert [(v["label"], v["active_for"] != []) for v in listed(api)] == [("demo", False), ("titles v2", True)]


def test_the_first_version_of_a_database_with_nothing_active_is_activated_at_once(api):
    with api.container.engine.begin() as conn:
        conn.execute(delete(ModelActivation))  # nothing active: what a fresh database looks like to deploy
    version = published(api, changed_bundle())
    assert (version["new"], version["activated"], version["active"], version["first"]) == (True, True, True, True)
    assert started_on(api) == version["id"]


def test_activate_comes_in_the_json_body_as_a_boolean_or_in_the_query_of_a_zip(api):
    before = snapshot(api.container)
    files = changed_bundle()
    for query, body in (("?activate=true", {"files": files}), ("", {"files": files, "activate": "true"}),
                        ("?label=x", {"files": files})):
        refused = api.post(f"/process-versions{query}", DESIGNER, json=body)
        assert refused.status_code == 422, (query, body)
        assert ("with a JSON body" in refused.get_json()["message"]) == bool(query), refused.get_json()
    refused = api.post("/process-versions?activate=maybe", DESIGNER, data=zipped(files),
                       content_type="application/zip")
    assert refused.status_code == 422 and "activate" in refused.get_json()["details"]["json"]
    assert snapshot(api.container) == before


def test_a_version_is_activated_then_rolled_back_and_running_documents_keep_theirs(api):
    [demo] = listed(api)
    version = published(api, changed_bundle())["id"]
    on_demo = started_on(api)
    activated = api.post(f"/process-versions/{version}/activate", DESIGNER)
    assert activated.status_code == 200
    assert activated.get_json() == {"id": version, "activated": True, "active": True,
                                    "active_for": demo["process_ids"]}
    again = api.post(f"/process-versions/{version}/activate", DESIGNER).get_json()
    assert (again["activated"], again["active"]) == (False, True)  # nothing more recorded
    assert activations_of(api, version) == [(DESIGNER, str(version))]
    assert started_on(api) == version
    rolled_back = api.post(f"/process-versions/{demo['id']}/activate", DESIGNER)
    assert rolled_back.status_code == 200 and rolled_back.get_json()["activated"] is True
    assert started_on(api) == on_demo == demo["id"]
    assert [(v["id"], v["active_for"] != [], v["running"]) for v in listed(api)] == [
        (demo["id"], True, 2), (version, False, 1)]  # the document started on the new version keeps it


def test_activating_an_unknown_version_is_a_404_and_changes_nothing(api):
    before = snapshot(api.container)
    for version in (999, 2**63 - 1):
        missing = api.post(f"/process-versions/{version}/activate", DESIGNER)
        assert missing.status_code == 404
        body = missing.get_json()
        assert body["code"] == "NOT_FOUND" and f"no model version {version}" in body["message"]
    assert api.post("/process-versions/0/activate", DESIGNER).status_code == 404
    assert snapshot(api.container) == before


def test_only_designers_publish_and_activate(api):
    version = published(api, changed_bundle())["id"]
    before = snapshot(api.container)
    for who in (ADMIN, AUDITOR, MANAGER):
        refused = api.post(f"/process-versions/{version}/activate", who)
        assert refused.status_code == 403 and refused.get_json()["code"] == "FORBIDDEN", who
        assert api.post("/process-versions", who, json={"files": changed_bundle(), "activate": True}) \
            .status_code == 403
    assert snapshot(api.container) == before


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
