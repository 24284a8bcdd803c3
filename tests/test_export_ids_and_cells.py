"""Promises of the research exports' ids and cells that the format tests leave implicit:
.qdpx GUIDs are RFC 4122 UUIDs, numbers and empty cells stay what they are in CSV and
XLSX, and the CSV escaping is undone exactly (cohear/cells.py's contract)."""

from __future__ import annotations

import uuid
import zipfile

import pytest
from lxml import etree

from cohear import cells
from surveys import exports, service


@pytest.fixture
def survey(store, people):
    comm, collector = people["communicator"][0], people["collector"][0]
    s = service.create_survey(store, comm, title="G", purpose="p", base_language="en",
                              questions=[{"kind": "consent", "name": "c", "text": "Agree?"},
                                         {"kind": "open", "name": "o", "text": "Say"}])
    service.open_language(store, comm, s["id"], "en")
    for n in range(12):
        session = service.start_session(store, collector, s["id"], "en")
        service.record_consent(store, collector, session["id"], method="tick")
        service.submit_answer(store, collector, session["id"], s["questions"][1]["id"],
                              text=f"answer number {n}")
    return s


@pytest.mark.parametrize("identifiable", [False, True])
def test_every_qdpx_guid_is_an_rfc_4122_version_4_uuid(store, people, survey, tmp_path, identifiable):
    """REFI-QDA's GUIDs are RFC 4122 UUIDs; cohear's are keyed hashes with the version-4 and
    RFC 4122 variant bits set, so an importer that checks them accepts every one."""
    who = people["admin"][0] if identifiable else people["researcher"][0]
    out = tmp_path / "p.qdpx"
    exports.export_survey(store, who, survey["id"], "qdpx", out, identifiable=identifiable)
    with zipfile.ZipFile(out) as z:
        project = etree.fromstring(z.read("project.qde"))
    guids = [el.get("guid") for el in project.iter() if el.get("guid")]
    assert len(guids) > 30 and len(set(guids)) == len(guids)
    for guid in guids:
        parsed = uuid.UUID(guid)
        assert str(parsed) == guid
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122, guid


def test_a_boolean_is_a_number_and_nothing_is_an_empty_cell_in_csv():
    """Numbers stay numbers: a yes/no is 1 or 0, never the text "True"; no value is an empty
    cell, never the text "None"."""
    assert cells.csv_cell(True) == 1 and cells.csv_cell(False) == 0
    assert cells.csv_cell(None) == ""
    assert cells.csv_cell(-5) == -5 and cells.csv_cell(2.5) == 2.5


@pytest.mark.parametrize("text", ["a=b", "x+1", "b-side", "me@home", "1'2", "plain", "'quoted", "=1+1",
                                  "-5", "'=", "''", "", "\ufe63"])
def test_the_csv_escaping_is_undone_exactly(text):
    """cohear/cells.py: fully reversible. Removing the one apostrophe gives back the exact
    words, including words with a trigger character after their first character."""
    assert cells.csv_uncell(cells.csv_cell(text)) == text


def test_xlsx_numbers_dates_and_empty_cells_are_not_text(tmp_path):
    """XLSX: numbers stay numbers (and dates dates); no value is an empty cell; a yes/no and
    everything else is a string, never a formula."""
    from datetime import date

    from openpyxl import Workbook, load_workbook
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("s")
    ws.append(cells.xlsx_row(ws, [7, -5, 2.5, date(2024, 5, 1), None, True, "=1+1"]))
    wb.save(tmp_path / "x.xlsx")
    row = next(load_workbook(tmp_path / "x.xlsx")["s"].iter_rows())
    assert [c.data_type for c in row[:3]] == ["n", "n", "n"] and [c.value for c in row[:3]] == [7, -5, 2.5]
    assert row[3].is_date and row[3].value.date() == date(2024, 5, 1)
    assert row[4].value is None
    assert row[5].data_type == "s" and row[5].value == "True"
    assert row[6].data_type == "s" and row[6].value == "=1+1"
