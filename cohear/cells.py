"""Spreadsheet cells that never run: CSV cells escaped as OWASP's CSV-injection
guidance says, XLSX cells written as strings, never formulas.

CSV (`csv_writer`, `csv_dict_writer`, `csv_cell`):
- every text cell is quoted (a `;` or `,` inside a cell can never start a new cell, whatever
  separator a spreadsheet guesses), and quotes inside are doubled;
- a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return (or the
  full-width `＝ ＋ － ＠`, which some spreadsheets also read as a formula), or with an
  apostrophe, gets one apostrophe in front. To undo it, remove the first character of
  every text cell that begins with an apostrophe (`ESCAPE_NOTE` says this in each data
  dictionary);
- numbers that are numbers in cohear (ids, versions, offsets, counts) are written as
  numbers and never escaped: `-5` in a number column stays `-5`. A text cell that merely
  looks like a number (a typed "-5", a scale point in a text column) is text, and is
  escaped like any other.

The `defusedcsv` package does the same job, but it leaves cells starting with a tab or
a carriage return alone (OWASP lists both) and rewrites `|` inside cells, which a
researcher could not undo; the rule here is a few lines and fully reversible.

XLSX (`xlsx_row`): write-only openpyxl cells whose type is set explicitly: text is
always a string cell (openpyxl would otherwise store text starting with `=` as a formula),
with characters XML cannot hold replaced (`cohear.text.xml_safe`); numbers stay numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date, time
from numbers import Number
from typing import Any

from cohear.text import xml_safe

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20", "'")

ESCAPE_NOTE = ("Every text cell is quoted. A text cell that began with = + - @ a tab, a carriage "
               "return, a full-width ＝ ＋ － ＠ or an apostrophe has one apostrophe (') added in "
               "front so no spreadsheet runs it as a formula: to get the exact words back, remove "
               "the first character of every text cell that begins with an apostrophe. Number "
               "columns (ids, versions, offsets, counts) are plain numbers, never escaped.")
XLSX_NOTE = ("Every text cell is stored as text, never as a formula, exactly as typed; a "
             "character that XML cannot hold (an invisible control character) is shown as "
             "U+FFFD (�).")


def csv_cell(value: Any) -> Any:
    """A value as it goes into a CSV cell: numbers as they are, text escaped."""
    if value is None or isinstance(value, bool):
        return "" if value is None else int(value)
    if isinstance(value, Number):
        return value
    text = str(value)
    if text.startswith(TRIGGERS):
        return "'" + text
    return text


def csv_uncell(text: str) -> str:
    """Undo `csv_cell` on a text cell read back (one apostrophe before a trigger)."""
    if text.startswith("'") and text[1:].startswith(TRIGGERS):
        return text[1:]
    return text


class _EscapingWriter:
    """csv.writer's interface, escaping every cell."""

    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([csv_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(fh, **fmtparams) -> _EscapingWriter:
    """A csv.writer that quotes every text cell and escapes it; numbers stay bare."""
    fmtparams.setdefault("quoting", csv.QUOTE_NONNUMERIC)
    return _EscapingWriter(csv.writer(fh, **fmtparams))


class csv_dict_writer(csv.DictWriter):  # noqa: N801 - a drop-in for csv.DictWriter
    """A csv.DictWriter that quotes and escapes every text cell (the header too)."""

    def __init__(self, fh, fieldnames, **kwargs):
        kwargs.setdefault("quoting", csv.QUOTE_NONNUMERIC)
        super().__init__(fh, fieldnames, **kwargs)
        self.writer = _EscapingWriter(self.writer)


def xlsx_row(sheet, values: Iterable[Any]) -> list:
    """Write-only openpyxl cells for one row: numbers, dates and times as themselves, text
    always a string cell, never a formula."""
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in values:
        if value is None or (isinstance(value, Number | date | time) and not isinstance(value, bool)):
            cell = WriteOnlyCell(sheet, value=value)
        else:
            cell = WriteOnlyCell(sheet, value=xml_safe(str(value)))
            cell.data_type = "s"
        cells.append(cell)
    return cells
