"""XLSForm import benchmark: cohear's whole reading of a form (its own cell scan, pyxform's
reader and conversion, the mapping and the report) against pyxform's reader alone
(`xlsx_to_dict`, the baseline), measured in the same run on the same files:

- a form whose sheets claim Excel's whole grid (A1:XFD1048576) with one cell in its last
  row (the hostile case: reading the declared size once took a minute);
- a realistic multilingual health form of 200 questions in 6 languages.

    .venv/bin/python bench/xlsform_import.py
"""

from __future__ import annotations

import io
import re
import sys
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from openpyxl import Workbook  # noqa: E402
from pyxform.xls2json_backends import xlsx_to_dict  # noqa: E402

from surveys import xlsform  # noqa: E402

LANGS = ["English (en)", "Urdu (ur)", "Swahili (sw)", "Polish (pl)", "Bengali (bn)",
         "Somali (so)"]


def health_form(questions: int = 200) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name"] + [f"label::{x}" for x in LANGS] + [f"hint::{x}" for x in LANGS]
              + ["required", "constraint", "relevant"])
    ws.append(["acknowledge", "consent"] + ["Do you agree?"] * 6 + [""] * 6 + ["yes"])
    for i in range(questions):
        kind = ["integer", "select_one yn", "text", "date"][i % 4]
        ws.append([kind, f"q{i}"] + [f"Question {i} ({x})" for x in LANGS]
                  + [f"Hint {i}"] * 6 + ["yes", ". >= 0 and . <= 120" if kind == "integer"
                                         else "", "${q0} > 3" if i % 7 == 0 else ""])
    choices = wb.create_sheet("choices")
    choices.append(["list_name", "name"] + [f"label::{x}" for x in LANGS])
    choices.append(["yn", "yes"] + ["Yes"] * 6)
    choices.append(["yn", "no"] + ["No"] * 6)
    settings = wb.create_sheet("settings")
    settings.append(["form_title", "form_id", "default_language"])
    settings.append(["Health form", "health", "English (en)"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def claims_a_million_rows() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label"])
    ws.append(["text", "q1", "How are you?"])
    ws.cell(row=1048576, column=3).value = "the last row Excel has"
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>',
                              body)
            z.writestr(item, body)
    return out.getvalue()


def best_of(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    for label, data in (("claims 1,048,576 rows x 16,384 columns", claims_a_million_rows()),
                        ("health form, 200 questions x 6 languages", health_form())):
        baseline = best_of(lambda d=data: xlsx_to_dict(io.BytesIO(d)))
        ours = best_of(lambda d=data: xlsform.parse_xlsform(d))
        print(f"{label}: pyxform's reader {baseline:.2f} s, cohear's import "
              f"{ours:.2f} s, ratio {ours / baseline:.1f}x")


if __name__ == "__main__":
    main()
