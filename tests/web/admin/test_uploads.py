"""Reading an uploaded diagram bundle: only diagrams and forms, paths kept inside, sizes bounded, text UTF-8."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from engine.workflow.bundle import read_folder
from web.process_pages import uploads
from web.process_pages.uploads import pack, read_upload, unpack

BPMN = Path(__file__).resolve().parents[3] / "bpmn"


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_of_the_folder_or_of_its_contents_reads_as_the_folder_does():
    files = read_folder(BPMN)
    for prefix in ("bpmn/", ""):
        found = read_upload([("d.zip", zipped({prefix + n: t.encode() for n, t in files.items()}))])
        assert found.files == files and found.problems == []


def test_single_files_lie_flat_with_forms_in_a_forms_folder():
    found = read_upload([("C:\\Users\\me\\a.bpmn", b"<x/>"), ("apply.schema.json", b"{}"), ("b.dmn", b"<y/>"),
                         ("notes.txt", b"hi")])
    assert sorted(found.files) == ["a.bpmn", "b.dmn", "forms/apply.schema.json"]
    assert found.ignored == ["notes.txt"] and found.problems == []


def test_paths_that_leave_the_bundle_are_refused():
    found = read_upload([("evil.zip", zipped({"../up.bpmn": b"<x/>", "/abs.bpmn": b"<x/>", "ok.bpmn": b"<x/>"}))])
    assert sorted(found.files) == ["ok.bpmn"]
    assert len(found.problems) == 2 and all("points outside the bundle" in p for p in found.problems)


def test_sizes_text_and_duplicates_are_checked(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_FILE_BYTES", 10)
    found = read_upload([("big.bpmn", b"x" * 11), ("latin.bpmn", b"caf\xe9"), ("a.bpmn", b"1"), ("a.bpmn", b"2"),
                         ("bomb.zip", zipped({"inner.bpmn": b"0" * 10_000})), ("broken.zip", b"PK no zip")])
    assert found.files == {"a.bpmn": "1"}
    assert [p.split(":-: ")[0] for p in found.problems] == ["big.bpmn", "latin.bpmn", "a.bpmn", "inner.bpmn",
                                                            "broken.zip"]
    assert "not UTF-8 text" in found.problems[1] and "twice" in found.problems[2]


def test_the_bundle_and_file_count_have_limits(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_FILES", 2)
    monkeypatch.setattr(uploads, "MAX_TOTAL_BYTES", 5)
    found = read_upload([("a.bpmn", b"12"), ("b.bpmn", b"34"), ("c.bpmn", b"5")])
    assert sorted(found.files) == ["a.bpmn", "b.bpmn"] and "more than 2 files" in found.problems[0]
    found = read_upload([("a.bpmn", b"123"), ("b.bpmn", b"456")])
    assert list(found.files) == ["a.bpmn"] and "larger than" in found.problems[0]


def test_what_was_checked_comes_back_intact_or_as_one_problem():
    files = {"a.bpmn": "<x>中文</x>", "forms/f.schema.json": "{}"}
    assert unpack(pack(files)).files == files
    for broken in ("", "%%%", pack({}), pack({"../a.bpmn": "x"}), pack({"a.bpmn": 1}), "eJwrSS0u0c1MAQAJ5wK7"):
        found = unpack(broken)
        assert found.files == {} and found.problems and "did not come back intact" in found.problems[0], broken
