"""`cohear messages ...` on a real data directory with real copy packs."""

from __future__ import annotations

import json

from cohear.cli import main


def run(capsys, data_dir, *args) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_messages_from_draft_to_approved_on_the_command_line(capsys, settings, people,
                                                             copy_packs, tmp_path):
    data = settings.data_dir
    code, out, _ = run(capsys, data, "messages", "add", "--title", "Flu", "--channel", "sms",
                       "--text", "Your hypertension check is due, {first_name}.",
                       "--as", "test-communicator")
    assert code == 0 and "added message 1" in out
    code, out, _ = run(capsys, data, "messages", "check", "1")
    assert code == 0 and "5-17 jargon" in out and "high blood pressure" in out
    code, out, _ = run(capsys, data, "messages", "translate", "1", "-l", "ur", "-l", "pl")
    assert code == 0 and "message 1 ur: machine translation" in out
    code, out, _ = run(capsys, data, "messages", "show", "1")
    assert code == 0 and "chrF 100.0" in out and "back-translation: Your hypertension" in out
    assert "ur machine (revision 1," in out
    code, out, err = run(capsys, data, "messages", "approve", "1", "-l", "ur",
                         "--as", "test-communicator")
    assert code == 1 and "admin or reviewer" in err
    code, out, err = run(capsys, data, "messages", "approve", "1", "-l", "ur",
                         "--revision", "2", "--as", "test-reviewer")
    assert code == 1 and "changed by someone else" in err     # not the revision read
    code, out, _ = run(capsys, data, "messages", "approve", "1", "-l", "ur",
                       "--revision", "1", "--as", "test-reviewer")
    assert code == 0 and "approved by test-reviewer" in out
    code, out, _ = run(capsys, data, "messages", "coverage", "--format", "json")
    assert json.loads(out)["messages"][0]["statuses"] == {"pl": "machine", "ur": "approved"}
    code, out, _ = run(capsys, data, "messages", "export", "1", "-l", "ur", "--format", "text")
    assert code == 0 and out == "Your hypertension check is due, {first_name}.\n"
    page = tmp_path / "flu.html"
    code, _, _ = run(capsys, data, "messages", "export", "1", "-o", str(page))
    assert code == 0 and '<section lang="ur" dir="rtl">' in page.read_text()
    code, _, err = run(capsys, data, "messages", "export", "1", "-l", "pl", "--format", "text")
    assert code == 1 and "not approved" in err

    code, _, _ = run(capsys, data, "messages", "request-human", "1", "-l", "so")
    xlf = tmp_path / "so.xlf"
    code, out, _ = run(capsys, data, "messages", "export-xliff", "1", "-l", "so", "-o", str(xlf))
    assert code == 0 and xlf.read_bytes().startswith(b"<?xml")
    xlf.write_bytes(xlf.read_bytes().replace(
        b"</source>", b"</source><target>Cadaadiskaaga dhiigga, {first_name}.</target>"))
    code, out, _ = run(capsys, data, "messages", "import-xliff", str(xlf), "--message", "1")
    assert code == 0 and "message 1 so: received" in out
    code, out, _ = run(capsys, data, "messages", "edit", "1", "--text",
                       "Your blood pressure check is due, {first_name}.")
    assert code == 0 and "version 2" in out
    code, out, err = run(capsys, data, "messages", "import-xliff", str(xlf), "--message", "1")
    assert code == 1 and "version 1 of message 1" in err and "Export the message again" in err
    code, out, _ = run(capsys, data, "messages", "list")
    assert code == 0 and "ur:stale" in out
