"""The surveys command line: XLSForm import, list and show, summary charts, exports
with a progress bar, and the idempotent demo survey."""

from __future__ import annotations

import csv
import os

import pytest

from cohear.cli import main
from cohear.demo import seed
from tests.test_surveys_xlsform import build_form


@pytest.fixture
def cli_env(settings, store, monkeypatch):
    monkeypatch.setenv("COHEAR_DATA_DIR", str(settings.data_dir))
    return settings


def test_import_list_show_and_export_from_the_command_line(cli_env, store, tmp_path, capsys):
    form = tmp_path / "form.xlsx"
    form.write_bytes(build_form())
    assert main(["surveys", "import-xlsform", str(form)]) == 0
    out = capsys.readouterr().out
    assert "survey 1 'GP access in Sparkbrook': 7 questions in en, ur, pl" in out
    assert "not imported:" in out and "calculate" in out
    assert main(["surveys", "list"]) == 0
    assert "GP access in Sparkbrook" in capsys.readouterr().out
    assert main(["surveys", "show", "1"]) == 0
    assert "heard_111" in capsys.readouterr().out
    assert main(["surveys", "export-xlsform", "1", "--out", str(tmp_path / "back.xlsx")]) == 0
    assert (tmp_path / "back.xlsx").read_bytes()[:2] == b"PK"
    # No answers yet: a clear one-line error and no file.
    assert main(["export", "--survey", "1", "--format", "csv", "--out",
                 str(tmp_path / "x.csv")]) == 1
    assert "no answers" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_demo_survey_is_seeded_once_and_exports_with_a_progress_bar(cli_env, store, tmp_path,
                                                                    capsys):
    first = seed(store)
    assert any("Flu vaccine" in line for line in first["lines"])
    again = seed(store)
    assert any("already here" in line for line in again["lines"])
    assert store.one("SELECT count(*) FROM surveys")[0] == 1
    kinds = [r[0] for r in store.all("SELECT kind FROM survey_questions ORDER BY position")]
    assert kinds == ["consent", "open", "scale"]
    out = tmp_path / "demo.csv"
    assert main(["export", "--survey", "1", "--format", "csv", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "survey 1 as csv" in captured.err  # the progress bar
    assert "wrote 4 rows" in captured.out
    with open(out, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["question"] for r in rows} == {"flu_vaccine", "confidence"}
    assert main(["surveys", "summary", "1", "--charts", str(tmp_path / "charts")]) == 0
    png = (tmp_path / "charts" / "answers.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(tmp_path / "charts" / "answers.png") > 1000
