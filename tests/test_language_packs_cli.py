"""`cohear langs`, `cohear packs ...` and `cohear translate` on a real data directory."""

from __future__ import annotations

import json

from cohear.cli import main


def run(capsys, data_dir, *args) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_packs_install_list_remove_and_langs(capsys, settings, copy_pack_files):
    data = settings.data_dir
    folder = next(iter(copy_pack_files.values())).parent
    code, out, _ = run(capsys, data, "packs", "install", str(folder))
    assert code == 0 and "installed translate-en_ur 1.0: en → ur" in out
    code, out, _ = run(capsys, data, "langs", "--json")
    rows = {r["tag"]: r for r in json.loads(out)}
    assert rows["ur"]["translation"] == "machine translation"
    assert rows["so"]["translation"] == "human translation only"
    code, out, _ = run(capsys, data, "langs")
    assert code == 0 and "human translation only" in out
    code, out, _ = run(capsys, data, "packs", "remove", "translate-en_pl")
    assert code == 0 and "removed translate-en_pl" in out
    code, out, _ = run(capsys, data, "packs", "list")
    assert "en → pl" not in out and "en → ur" in out


def test_translate_text_into_several_languages(capsys, settings, copy_packs):
    code, out, _ = run(capsys, settings.data_dir, "translate", "Hello world. Stay well.",
                       "--to", "ur,pl,bn", "--json")
    assert code == 0
    body = json.loads(out)
    assert {tag: [r["text"] for r in rows] for tag, rows in body.items()} == {
        "ur": ["Hello world. Stay well."], "pl": ["Hello world. Stay well."],
        "bn": ["Hello world. Stay well."]}
    assert body["ur"][0]["engine"] == "argos:translate-en_ur-1.0"


def test_translate_a_file_of_many_lines(capsys, settings, copy_packs, tmp_path):
    lines = [f"Message number {i}. Please book your vaccine." for i in range(150)]
    source = tmp_path / "messages.txt"
    source.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    code, out, err = run(capsys, settings.data_dir, "translate", "--file", str(source),
                         "--to", "ur", "--json")
    assert code == 0
    assert [r["text"] for r in json.loads(out)["ur"]] == lines
    assert "150 message(s)" in err  # the progress bar


def test_translate_refuses_a_language_without_a_pack(capsys, settings, copy_packs):
    code, _, err = run(capsys, settings.data_dir, "translate", "Hello.", "--to", "ti")
    assert code == 1
    assert "Tigrinya" in err and "human translator" in err
