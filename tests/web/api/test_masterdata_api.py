"""The data-dictionary import through the API: the admin's, all or nothing, JSON files or a zip."""

from __future__ import annotations

from engine.seed import demo_folder
from tests.web.api.state import snapshot
from tests.web.api.test_processes_api import zipped

ADMIN, DESIGNER, BUDGET_ADMIN = "E0015", "E0016", "E0013"


def dictionary(**changes: str) -> dict[str, str]:
    files = {p.name: p.read_text(encoding="utf-8") for p in demo_folder().iterdir() if p.is_file()}
    return {**files, **changes}


def test_the_same_dictionary_again_changes_nothing(api):
    before = snapshot(api.container)
    answer = api.post("/master-data/imports", ADMIN, json={"files": dictionary()})
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["imported"] is True and body["changed"] is False
    assert body["counts"]["employees"] == {"created": 0, "updated": 0, "unchanged": 25}
    assert body["counts"]["oa_forms"] == {"created": 0, "updated": 0, "unchanged": 6}  # engine/seed/demo/oa_forms.csv
    assert body["oa_forms_removed"] == 0
    assert snapshot(api.container) == before


def test_a_changed_dictionary_is_imported_from_a_zip(api):
    files = dictionary()
    files["employees.csv"] = files["employees.csv"].replace("E0018,林晓,", "E0018,林晓晓,", 1)
    files["manifest.toml"] = files["manifest.toml"].replace('version = "', 'version = "api-', 1)
    answer = api.post("/master-data/imports", ADMIN, data=zipped(files), content_type="application/zip")
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["changed"] is True
    assert answer.get_json()["counts"]["employees"]["updated"] == 1


def test_a_dictionary_with_problems_imports_nothing_and_names_each(api):
    before = snapshot(api.container)
    files = dictionary()
    files["employees.csv"] = files["employees.csv"].replace("E0017,", "E00!7,", 1)
    files["manifest.toml"] = files["manifest.toml"].replace('version = "', 'version = "api-', 1)
    refused = api.post("/master-data/imports", ADMIN, json={"files": files})
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["code"] == "MASTER_DATA_INVALID"
    assert any(p.startswith("employees.csv:") and "E00!7" in p for p in body["details"]["problems"])
    assert snapshot(api.container) == before


def test_only_an_admin_imports(api):
    before = snapshot(api.container)
    for who in (DESIGNER, BUDGET_ADMIN):
        assert api.post("/master-data/imports", who, json={"files": dictionary()}).status_code == 403
    assert api.post("/master-data/imports", ADMIN, json={"files": {"../employees.csv": "x"}}).status_code == 422
    assert api.post("/master-data/imports", ADMIN, json={"files": {"sub/employees.csv": "x"}}).status_code == 422
    assert snapshot(api.container) == before
