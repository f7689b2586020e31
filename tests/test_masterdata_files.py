"""The files of a data-dictionary folder, as they come (issue 7, "Trust nothing that comes in"):
links out of the folder, FIFOs, sizes, line endings and byte-order marks; and a large file is streamed,
never held in memory whole. Imports run against SQLite, and PostgreSQL when configured.
"""

from __future__ import annotations

import os
import threading
import time
import tracemalloc

import pytest

from engine.domain.errors import MasterDataInvalid
from engine.persistence.tables import BudgetLine
from engine.services.masterdata.folder import MIB, ReadLimits
from engine.services.masterdata.importing import import_master_data, load_folder
from tests.test_masterdata import BASE, write_folder
from tests.test_masterdata_import import count, run_cli, snapshot

SECRET = "root:x:0:0:TOP-SECRET-FIRST-LINE:/root:/bin/bash"
LINK_OUT = ("employees.csv:-:-: is a symbolic link to a file outside the folder; copy the file into the folder "
            "instead")


def import_folder(container, folder, limits: ReadLimits | None = None):
    store = container.masterdata_store
    return import_master_data(folder, store, limits=limits) if limits else import_master_data(folder, store)


def refused(container, folder, limits: ReadLimits | None = None) -> list[str]:
    before = snapshot(container)
    with pytest.raises(MasterDataInvalid) as caught:
        import_folder(container, folder, limits)
    assert snapshot(container) == before
    return caught.value.problems


# ---------------------------------------------------------------- links and special files


def test_a_symlink_out_of_the_folder_is_refused_and_its_target_never_echoed(container, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    folder = write_folder(tmp_path)
    (folder / "employees.csv").unlink()
    (folder / "employees.csv").symlink_to(secret)

    problems = refused(container, folder)

    assert problems == [LINK_OUT]
    assert "SECRET" not in "".join(problems)


def test_a_chain_of_links_that_ends_outside_is_refused_and_so_is_a_link_to_a_device(container, tmp_path):
    folder = write_folder(tmp_path)
    (folder / "employees.csv").rename(tmp_path / "elsewhere.csv")
    (folder / "hop").symlink_to(tmp_path / "elsewhere.csv")
    (folder / "employees.csv").symlink_to("hop")
    (folder / "currencies.csv").unlink()
    (folder / "currencies.csv").symlink_to("/dev/zero")

    assert refused(container, folder) == [
        "currencies.csv:-:-: is a symbolic link to a file outside the folder; copy the file into the folder instead",
        LINK_OUT]


def test_a_symlink_to_a_file_inside_the_folder_is_followed(container, tmp_path):
    folder = write_folder(tmp_path)
    (folder / "sources").mkdir()
    (folder / "employees.csv").rename(folder / "sources" / "people.txt")
    (folder / "employees.csv").symlink_to("sources/people.txt")

    summary = import_folder(container, folder)

    assert summary.counts["employees"].created == 2


def test_a_fifo_named_like_a_dictionary_file_is_refused_without_waiting_for_a_writer(container, tmp_path):
    folder = write_folder(tmp_path)
    (folder / "employees.csv").unlink()
    os.mkfifo(folder / "employees.csv")
    outcome: list[object] = []

    def load() -> None:
        try:
            load_folder(folder)
        except MasterDataInvalid as exc:
            outcome.append(exc.problems)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=20)

    assert not worker.is_alive(), "opening the FIFO blocked"
    assert outcome == [["employees.csv:-:-: is a FIFO (named pipe), not a regular file"]]
    assert count(container, BudgetLine) == 0


def test_a_folder_named_like_a_dictionary_file_is_refused(tmp_path):
    folder = write_folder(tmp_path)
    (folder / "employees.csv").unlink()
    (folder / "employees.csv").mkdir()
    with pytest.raises(MasterDataInvalid) as caught:
        load_folder(folder)
    assert caught.value.problems == ["employees.csv:-:-: is a folder, not a regular file"]


# ---------------------------------------------------------------- sizes


def test_a_file_over_the_limit_is_refused_by_its_size_naming_file_size_and_limit(container, tmp_path):
    folder = write_folder(tmp_path, budget_lines_csv=BASE["budget_lines.csv"] + "\n" * 3000)
    size = (folder / "budget_lines.csv").stat().st_size

    problems = refused(container, folder, ReadLimits(max_file_bytes=2048))

    assert problems == [f"budget_lines.csv:-:-: is {size:,} bytes; the limit is 2,048 bytes per file "
                        "(setting BUDGETFLOW_MASTERDATA_MAX_BYTES)"]


def test_a_huge_file_is_refused_without_being_read(container, tmp_path):
    folder = write_folder(tmp_path)
    # Sparse: 64 GiB that take no disk. Reading it, or even a fraction of it, would take minutes.
    os.truncate(folder / "employees.csv", 64 * 1024 * MIB)
    started = time.process_time()  # CPU time: reading even a fraction of the file would show here

    problems = refused(container, folder)

    assert problems == ["employees.csv:-:-: is 68,719,476,736 bytes; the limit is 20,971,520 bytes per file "
                        "(setting BUDGETFLOW_MASTERDATA_MAX_BYTES)"]
    assert time.process_time() - started < 5


def test_the_files_together_are_held_to_a_total_limit(container, tmp_path):
    folder = write_folder(tmp_path)
    total = sum(p.stat().st_size for p in folder.iterdir())

    problems = refused(container, folder, ReadLimits(max_file_bytes=MIB, max_total_bytes=total - 1))

    assert problems == [f"{folder}:-:-: the dictionary files add up to {total:,} bytes; the limit is "
                        f"{total - 1:,} bytes (setting BUDGETFLOW_MASTERDATA_MAX_TOTAL_BYTES)"]


def test_the_per_file_limit_is_a_setting(container, cli_env, tmp_path):
    folder = write_folder(tmp_path)
    size = (folder / "employees.csv").stat().st_size

    result = run_cli({**cli_env, "BUDGETFLOW_MASTERDATA_MAX_BYTES": "100"}, "import-master-data", str(folder))

    assert result.returncode == 1, result.stdout
    assert f"employees.csv:-:-: is {size:,} bytes; the limit is 100 bytes per file" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_manifest_is_small(container, tmp_path):
    folder = write_folder(tmp_path, manifest_toml=BASE["manifest.toml"] + "# " + "x" * 70_000 + "\n")
    size = (folder / "manifest.toml").stat().st_size
    assert refused(container, folder) == [f"manifest.toml:-:-: is {size:,} bytes; the limit for this file is "
                                          "65,536 bytes"]


def test_one_endless_line_is_refused_without_reading_it_whole(container, tmp_path):
    folder = write_folder(tmp_path, budget_lines_csv=BASE["budget_lines.csv"] + "2026," + "9" * 200_000 + "\n")
    assert refused(container, folder) == [
        "budget_lines.csv:4:-: is longer than 16384 bytes; no row of the data dictionary is anywhere near that long"]


def test_a_large_file_within_the_limit_is_streamed_not_read_whole(container, tmp_path):
    # What Excel leaves behind after rows were cleared: thousands of empty rows, here 16 MB of them.
    blank = " " * 200 + "," + ",".join([" " * 10] * 8) + "\r\n"
    lines = BASE["budget_lines.csv"].replace("\n", "\r\n") + blank * 55_000 + "2026-Q2,OPS,,TRAVEL,,300,CNY,WARN,\r\n"
    folder = write_folder(tmp_path, budget_lines_csv=lines)
    size = (folder / "budget_lines.csv").stat().st_size
    assert 15 * MIB < size < 20 * MIB

    tracemalloc.start()
    try:
        summary = import_folder(container, folder)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert summary.counts["budget_lines"].created == 3
    assert peak < size / 8, f"peak {peak:,} bytes for a {size:,}-byte file"


# ---------------------------------------------------------------- line endings and byte-order marks


def test_crlf_lf_and_mixed_line_endings_and_a_bom_at_the_start_are_all_read(container, tmp_path):
    folder = write_folder(
        tmp_path,
        employees_csv="\ufeff" + BASE["employees.csv"].replace("\n", "\r\n"),
        org_units_csv=BASE["org_units.csv"].replace("\n", "\r\n", 1),
        cost_centers_csv=BASE["cost_centers.csv"].rstrip("\n"),  # no line end after the last row
    )
    summary = import_folder(container, folder)
    assert summary.counts["employees"].created == 2 and summary.counts["org_units"].created == 2


def test_a_carriage_return_alone_as_a_line_break_is_refused_with_a_plain_message(container, tmp_path):
    folder = write_folder(tmp_path, cost_centers_csv=BASE["cost_centers.csv"].replace("\n", "\r"))
    assert refused(container, folder) == [
        "cost_centers.csv:1:-: is not valid CSV: a carriage return (CR) that does not end a line; save the file "
        "with Windows (CRLF) or Unix (LF) line endings"]


@pytest.mark.parametrize(("text", "problem"), [
    ("\ufeff\ufeff" + BASE["currencies.csv"],
     "currencies.csv:1:-: header column 1 contains U+FEFF, a byte-order mark (allowed only at the very start of a "
     "file) at character 1"),
    (BASE["currencies.csv"].replace("JPY", "\ufeffJPY"),
     "currencies.csv:3:code: contains U+FEFF, a byte-order mark (allowed only at the very start of a file) at "
     "character 1; a cell may not hold control characters, tabs or line breaks"),
])
def test_a_byte_order_mark_anywhere_but_at_the_start_is_refused(container, tmp_path, text, problem):
    assert refused(container, write_folder(tmp_path, currencies_csv=text)) == [problem]


def test_a_file_that_is_not_utf8_names_its_first_bad_line_and_byte(container, tmp_path):
    folder = write_folder(tmp_path)
    data = BASE["org_units.csv"].encode("utf-8").replace("运营部".encode(), "运营部".encode("gbk"))
    (folder / "org_units.csv").write_bytes(data)
    assert refused(container, folder) == [
        f"org_units.csv:3:-: is not UTF-8 text (byte {data.index('运营部'.encode('gbk'))} cannot be decoded); "
        "save it as UTF-8"]
