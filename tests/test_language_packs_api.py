"""The /api/languages and /api/packs routes over real HTTP: coverage for everyone signed
in, pack upload and removal for admins only, refusals as problem details."""

from __future__ import annotations


def test_languages_list_shows_coverage_to_any_signed_in_role(api, copy_packs):
    r = api["collector"].get("/api/languages")
    assert r.status_code == 200
    rows = {row["tag"]: row for row in r.json()}
    assert rows["ur"]["translation"] == "machine translation"
    assert rows["ckb"]["translation"] == "human translation only"
    assert rows["ckb"]["direction"] == "rtl" and rows["ckb"]["speech_recognition"] is False
    assert api["anonymous"].get("/api/languages").status_code == 401


def test_one_language(api):
    body = api["reviewer"].get("/api/languages/pa-Arab").json()
    assert (body["tag"], body["direction"], body["script"]) == ("pa-Arab", "rtl", "Arab")
    r = api["reviewer"].get("/api/languages/xx")
    assert r.status_code == 400 and "not a language cohear knows" in r.json()["detail"]
    body = api["reviewer"].get("/api/languages/sw").json()
    assert (body["tag"], body["english_name"], body["translation"], body["speech_recognition"],
            body["in_region"]) == ("sw", "Swahili", "human translation only", True, False)
    listed = api["collector"].get("/api/languages", params={"also": ["sw", "yo"]}).json()
    assert [row["tag"] for row in listed][-2:] == ["sw", "yo"]


def test_admin_uploads_lists_and_removes_a_pack(api, copy_pack_files):
    path = copy_pack_files[("en", "pl")]
    with open(path, "rb") as fh:
        r = api["admin"].post("/api/packs", files={"file": (path.name, fh)})
    assert r.status_code == 201, r.text
    assert (r.json()["name"], r.json()["target"]) == ("translate-en_pl", "pl")
    listed = api["reviewer"].get("/api/packs").json()
    assert [p["name"] for p in listed] == ["translate-en_pl"] and listed[0]["present"]
    assert api["admin"].get("/api/health").json()["language_packs"]["installed"] == [
        {"source": "en", "target": "pl", "name": "translate-en_pl", "version": "1.0"}]
    r = api["communicator"].post("/translate", json={"q": "Hello.", "source": "en",
                                                     "target": "pl"})
    assert r.json() == {"translatedText": "Hello."}
    assert api["admin"].delete("/api/packs/translate-en_pl").status_code == 200
    assert api["reviewer"].get("/api/packs").json() == []


def test_only_admins_install_or_remove(api, copy_pack_files):
    path = copy_pack_files[("en", "ur")]
    with open(path, "rb") as fh:
        r = api["communicator"].post("/api/packs", files={"file": (path.name, fh)})
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    assert api["reviewer"].delete("/api/packs/translate-en_ur").status_code == 403
    assert api["collector"].get("/api/packs").status_code == 403
    assert api["admin"].get("/api/packs").json() == []


def test_upload_for_the_wrong_direction_is_refused(api, copy_pack_files):
    path = copy_pack_files[("ur", "en")]
    with open(path, "rb") as fh:
        r = api["admin"].post("/api/packs", files={"file": (path.name, fh)},
                              data={"source": "en", "target": "ur"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "translates ur to en" in r.json()["detail"]
    assert api["admin"].get("/api/packs").json() == []


def test_upload_of_something_else_is_refused_naming_the_file(api):
    r = api["admin"].post("/api/packs", files={"file": ("holiday.jpg", b"\xff\xd8 not a zip")})
    assert r.status_code == 422
    assert "holiday.jpg is not a zip archive" in r.json()["detail"]
    assert api["admin"].get("/api/packs").json() == []
