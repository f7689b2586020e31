"""Process pages: versions with instance counts, check and publish an uploaded bundle, incidents and retry."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from engine.services import read_models
from engine.workflow.bundle import read_folder
from tests.flows.support import Flow
from tests.web.admin.support import PEOPLE, instance_incident, job_incident, page, state
from tests.web.conftest import csrf_token, login_client
from web.process_pages.uploads import pack

BPMN = Path(__file__).resolve().parents[3] / "bpmn"
DESIGNER, ADMIN = PEOPLE["process_designer"], PEOPLE["admin"]


def zipped(files: dict[str, str], folder: str = "bpmn/") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(folder + name, text)
    return buffer.getvalue()


def edited_bundle() -> dict[str, str]:
    """The shipped diagrams with one harmless change: a new bundle, so a new version."""
    files = read_folder(BPMN)
    name = "travel_application/travel_application.bpmn"
    files[name] = files[name].replace("?>", "?>\n<!-- edited in a test -->", 1)
    return files


def upload(client, parts: list[tuple[str, bytes]], label: str = "") -> tuple[int, str]:
    form_page = client.get("/processes/upload").get_data(as_text=True)
    data = {"csrf_token": csrf_token(form_page), "label": label,
            "files": [(io.BytesIO(content), name) for name, content in parts]}
    response = client.post("/processes/upload", data=data, content_type="multipart/form-data")
    return response.status_code, response.get_data(as_text=True)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1)


def test_the_designer_sees_every_version_with_its_documents_and_which_is_current(client, demo):
    Flow(demo).start("expense_claim")
    login_client(client, DESIGNER)
    status, html = page(client, "/processes")
    assert status == 200
    row = re.search(r'<tr>\s*<td data-label="Version"><a href="/processes/versions/1">.*?</tr>', html, re.S)
    assert row and "expense_claim · active" in row.group(0) and re.search(r'class="num">1</td>', row.group(0))
    status, html = page(client, "/processes/versions/1")
    assert status == 200 and "New documents of this process start on this version." in html
    assert html.count('<svg') == 6 and "travel_application/forms/apply.schema.json" in html  # a picture each
    assert page(client, "/processes/versions/999")[0] == 404


def test_a_version_downloads_as_the_zip_that_uploads_as_the_same_bundle(client, demo):
    login_client(client, DESIGNER)
    download = client.get("/processes/versions/1/bundle.zip")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    status, html = upload(client, [("budgetflow-version-1.zip", download.data)])
    versions = read_models.model_versions(demo.reader)
    assert status == 200 and f"Content hash: {versions[0]['sha256'][:12]}" in html
    assert client.get("/processes/versions/9/bundle.zip").status_code == 404


def test_a_zip_that_passes_the_check_is_published_once_with_its_label(client, demo):
    login_client(client, DESIGNER)
    files = edited_bundle()
    status, html = upload(client, [("my-diagrams.zip", zipped(files))], label="2026 Q3")
    assert status == 200 and f"No problems in {len(files)} file(s)." in html, html
    assert "travel_application/forms/apply.schema.json" in html  # the zip's top folder is dropped
    posted = {"csrf_token": csrf_token(html), "bundle": hidden(html, "bundle"), "label": "2026 Q3"}
    published = client.post("/processes/publish", data=posted)
    assert published.status_code == 302 and published.headers["Location"].endswith("/processes/versions/2")
    shown = client.get(published.headers["Location"]).get_data(as_text=True)
    assert "Published version 2" in shown and "2026 Q3" in shown and "It is not active yet" in shown
    assert "Not active: new documents of this process start on version 1." in shown
    again = client.post("/processes/publish", data=posted, follow_redirects=True).get_data(as_text=True)
    assert "already version 2; nothing new was published" in again
    versions = read_models.model_versions(demo.reader)
    assert [(v["id"], v["label"], v["deployed_by"]) for v in versions][1:] == [(2, "2026 Q3", DESIGNER)]
    assert versions[1]["active_for"] == [] and "expense_claim" in versions[0]["active_for"]


def test_a_designer_activates_a_version_and_rolls_back_by_activating_the_old_one(client, demo):
    login_client(client, DESIGNER)
    status, html = upload(client, [("my-diagrams.zip", zipped(edited_bundle()))])
    posted = {"csrf_token": csrf_token(html), "bundle": hidden(html, "bundle"), "activate": "1"}
    shown = client.post("/processes/publish", data=posted, follow_redirects=True).get_data(as_text=True)
    assert "Published version 2" in shown and "It is active: new documents start on it" in shown
    assert 'action="/processes/versions/2/activate"' not in shown  # active: nothing to activate
    old = client.get("/processes/versions/1").get_data(as_text=True)
    assert "Not active: new documents of this process start on version 2." in old
    rolled = client.post("/processes/versions/1/activate", data={"csrf_token": csrf_token(old)},
                         follow_redirects=True).get_data(as_text=True)
    assert "Version 1 is active: new documents start on it" in rolled
    assert "expense_claim" in read_models.model_versions(demo.reader)[0]["active_for"]
    assert client.post("/processes/versions/9/activate", data={"csrf_token": csrf_token(old)}).status_code == 404


def test_problems_are_listed_by_file_and_element_and_nothing_can_be_published(client, demo):
    login_client(client, DESIGNER)
    files = read_folder(BPMN)
    claim = "expense_claim/expense_claim.bpmn"
    broken = files[claim].replace('serviceTaskOperator id="', 'serviceTaskOperator id="nope/', 1)
    parts = [(Path(n).name, t.encode()) for n, t in files.items() if n != claim]
    before = state(demo)
    status, html = upload(client, [*parts, ("expense_claim.bpmn", broken.encode()), ("notes.txt", b"x")])
    assert status == 422 and "Nothing was published" in html
    assert re.search(r"<code>expense_claim.bpmn</code></td><td[^>]*><code>\w+</code></td>\s*<td[^>]*>[^<]*nope/",
                     html), html
    assert html.count("<tr><td") == 1, "single files are laid out so that the diagrams find their forms"
    assert "Left out (not a diagram or form): notes.txt" in html
    assert 'action="/processes/publish"' not in html
    assert state(demo) == before


@pytest.mark.parametrize("bundle", [pack({"x.bpmn": "<definitions"}), "not-a-bundle", ""])
def test_publishing_refuses_a_bundle_that_does_not_pass_and_changes_nothing(client, demo, bundle):
    login_client(client, DESIGNER)
    before = state(demo)
    token = csrf_token(client.get("/processes/upload").get_data(as_text=True))
    response = client.post("/processes/publish", data={"csrf_token": token, "bundle": bundle, "label": "x"})
    assert response.status_code == 422 and "Nothing was published" in response.get_data(as_text=True)
    assert state(demo) == before


def test_an_upload_without_diagrams_says_what_to_choose(client, demo):
    login_client(client, DESIGNER)
    status, html = upload(client, [("readme.txt", b"hello")])
    assert status == 422 and "the upload holds no .bpmn, .dmn or .schema.json file" in html
    token = csrf_token(client.get("/processes/upload").get_data(as_text=True))
    response = client.post("/processes/upload", data={"csrf_token": token})
    assert response.status_code == 422 and "choose the .bpmn" in response.get_data(as_text=True)


def test_incidents_show_the_error_and_a_job_is_queued_again_by_the_designer(client, demo):
    job_id = job_incident(Flow(demo))
    login_client(client, DESIGNER)
    status, html = page(client, "/processes/incidents")
    assert status == 200 and "ERP answered 500" in html and "erp/PostVoucher" in html
    token = csrf_token(html)
    done = client.post(f"/processes/incidents/jobs/{job_id}/retry", data={"csrf_token": token},
                       follow_redirects=True)
    assert done.status_code == 200 and f"Job {job_id} is queued again" in done.get_data(as_text=True)
    assert read_models.incidents(demo.reader).jobs == []
    again = client.post(f"/processes/incidents/jobs/{job_id}/retry", data={"csrf_token": token})
    assert again.status_code == 403 and "is not an open incident" in again.get_data(as_text=True)


def test_an_instance_in_incident_is_run_again_by_an_admin_only(client, demo):
    instance = instance_incident(Flow(demo))
    login_client(client, DESIGNER)
    html = page(client, "/processes/incidents")[1]
    assert "prepare_claim" in html and "An admin runs it again." in html
    before = state(demo)
    refused = client.post(f"/processes/incidents/instances/{instance}/retry", data={"csrf_token": csrf_token(html)})
    assert refused.status_code == 403 and state(demo) == before
    client.post("/logout", data={"csrf_token": csrf_token(html)})
    login_client(client, ADMIN)
    html = page(client, "/processes/incidents")[1]
    ran = client.post(f"/processes/incidents/instances/{instance}/retry", data={"csrf_token": csrf_token(html)},
                      follow_redirects=True)
    assert f"Instance {instance} ran again; it is now waiting for a person&#39;s task." in ran.get_data(as_text=True)
    assert read_models.incidents(demo.reader).instances == []
    missing = client.post("/processes/incidents/instances/99999/retry", data={"csrf_token": csrf_token(html)})
    assert missing.status_code == 404
