"""The surveys API over a real uvicorn server: roles, collector isolation, consent
before answers, coding, agreement, and exports run as durable jobs and downloaded."""

from __future__ import annotations

import csv
import io
import time

import pytest

from tests.test_surveys_xlsform import build_form

SURVEY = {
    "title": "Pharmacy use", "purpose": "Learn how people use pharmacies",
    "base_language": "en", "target_languages": ["ur"],
    "questions": [
        {"kind": "consent", "name": "consent", "text": "Do you agree?"},
        {"kind": "open", "name": "story", "text": "Tell us about your pharmacy",
         "texts": {"ur": "اپنی فارمیسی کے بارے میں بتائیں"}},
        {"kind": "scale", "name": "ease", "text": "How easy is it?",
         "options": {"min": 1, "max": 5}},
    ],
}


def wait_for(client, path, done=lambda body: body["status"] != "queued", timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(path).json()
        if done(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


@pytest.fixture
def survey(api):
    r = api["communicator"].post("/api/surveys", json=SURVEY)
    assert r.status_code == 201, r.text
    s = r.json()
    assert api["communicator"].post(f"/api/surveys/{s['id']}/languages/en",
                                    json={}).status_code == 200
    return s


def start(api, role, survey):
    r = api[role].post("/api/sessions", json={"survey_id": survey["id"], "language": "en"})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_language_opens_over_http_only_once_approved(api, survey):
    comm = api["communicator"]
    r = comm.post(f"/api/surveys/{survey['id']}/languages/ur", json={})
    assert r.status_code == 409 and "consent" in r.json()["detail"]
    for q in survey["questions"]:
        if q["name"] != "story":
            assert comm.put(f"/api/surveys/questions/{q['id']}/texts/ur",
                            json={"text": "اردو"}).status_code == 200
        # Approval is a reviewer's step, the same as for any translated message.
        assert comm.post(f"/api/surveys/questions/{q['id']}/texts/ur/approve"
                         ).status_code == 403
        r = api["reviewer"].post(f"/api/surveys/questions/{q['id']}/texts/ur/approve")
        assert r.status_code == 200, r.text
    assert comm.post(f"/api/surveys/{survey['id']}/languages/ur", json={}).status_code == 200


def test_consent_comes_before_any_answer_over_http(api, survey):
    session = start(api, "collector", survey)
    story = survey["questions"][1]["id"]
    c = api["collector"]
    r = c.post(f"/api/sessions/{session['id']}/answers", data={"question_id": story,
                                                               "text": "Too early"})
    assert r.status_code == 409 and "consent" in r.json()["detail"]
    assert r.headers["content-type"].startswith("application/problem+json")
    assert c.post(f"/api/sessions/{session['id']}/consent",
                  data={"method": "tick"}).status_code == 201
    r = c.post(f"/api/sessions/{session['id']}/answers", data={"question_id": story,
                                                               "text": "Open late"})
    assert r.status_code == 201, r.text
    r = c.post(f"/api/sessions/{session['id']}/answers",
               data={"question_id": survey["questions"][2]["id"], "choices": ["4"]})
    assert r.status_code == 201 and r.json()["choices"] == ["4"]
    assert c.get(f"/api/sessions/{session['id']}").json()["consent"]["method"] == "tick"


def test_collectors_see_and_upload_only_to_their_own_sessions(api, survey):
    mine = start(api, "collector", survey)
    api["collector"].post(f"/api/sessions/{mine['id']}/consent", data={"method": "tick"})
    answer = api["collector"].post(f"/api/sessions/{mine['id']}/answers", data={
        "question_id": survey["questions"][1]["id"], "text": "Mine"}).json()
    other = api["collector2"]
    r = other.post(f"/api/sessions/{mine['id']}/answers",
                   data={"question_id": survey["questions"][2]["id"], "choices": ["1"]})
    # Another collector's session is answered as one that does not exist, so that its
    # existence is not told either.
    missing = other.post("/api/sessions/999999/answers",
                         data={"question_id": survey["questions"][2]["id"], "choices": ["1"]})
    assert r.status_code == missing.status_code == 404
    assert r.json()["detail"] == missing.json()["detail"].replace("999999", str(mine["id"]))
    assert other.post(f"/api/sessions/{mine['id']}/consent",
                      data={"method": "tick"}).status_code == 404
    assert other.get(f"/api/sessions/{mine['id']}").status_code == 404
    assert other.get(f"/api/answers/{answer['id']}").status_code == 404
    assert other.get("/api/sessions").json() == []
    assert other.get("/api/answers").json() == []
    assert [s["id"] for s in api["reviewer"].get("/api/sessions").json()] == [mine["id"]]
    assert [a["id"] for a in api["researcher"].get("/api/answers").json()] == [answer["id"]]
    # Nothing was added by the refused upload.
    assert len(api["reviewer"].get(f"/api/sessions/{mine['id']}").json()["answers"]) == 1


def test_roles_are_enforced_on_survey_building_and_exports(api, survey):
    assert api["collector"].post("/api/surveys", json=SURVEY).status_code == 403
    assert api["researcher"].post("/api/surveys", json=SURVEY).status_code == 403
    r = api["reviewer"].post("/api/exports", json={"survey_id": survey["id"], "format": "csv"})
    assert r.status_code == 403 and "researcher" in r.json()["detail"]
    r = api["researcher"].post("/api/exports", json={"survey_id": survey["id"], "format": "csv",
                                                     "identifiable": True})
    assert r.status_code == 403


def test_code_agree_and_export_as_a_job_then_download(api, survey):
    c = api["collector"]
    story = survey["questions"][1]["id"]
    answers = []
    for words in ("The pharmacist explained my pills", "Queue was long, call 0121 496 0018"):
        s = start(api, "collector", survey)
        c.post(f"/api/sessions/{s['id']}/consent", data={"method": "tick"})
        answers.append(c.post(f"/api/sessions/{s['id']}/answers",
                              data={"question_id": story, "text": words}).json())
    book = api["researcher"].post("/api/codebooks", json={"name": "Pharmacy", "codes": [
        {"name": "advice"}, {"name": "waiting", "colour": "#ff8800"}]}).json()
    codes = {c_["name"]: c_["id"] for c_ in book["codes"]}
    text_id = answers[1]["texts"]["original"]["id"]
    for role in ("reviewer", "researcher"):
        r = api[role].post(f"/api/answers/{answers[0]['id']}/codings",
                           json={"code_id": codes["advice"]})
        assert r.status_code == 201, r.text
        r = api[role].post(f"/api/answers/{answers[1]['id']}/codings",
                           json={"code_id": codes["waiting"], "answer_text_id": text_id,
                                 "start": 0, "end": 13})
        assert r.status_code == 201, r.text
    r = api["reviewer"].post(f"/api/answers/{answers[1]['id']}/codings",
                             json={"code_id": codes["waiting"], "answer_text_id": text_id,
                                   "start": 5, "end": 500})
    assert r.status_code == 400 and "outside the text" in r.json()["detail"]
    agreement = api["researcher"].get(f"/api/surveys/{survey['id']}/agreement").json()
    assert agreement["overall"]["confusion"] == {"both": 2, "first_only": 0, "second_only": 0,
                                                 "neither": 2}
    assert agreement["overall"]["kappa"] == 1.0

    r = api["researcher"].post("/api/exports", json={"survey_id": survey["id"],
                                                     "format": "csv"})
    assert r.status_code == 202, r.text
    export = wait_for(api["researcher"], f"/api/exports/{r.json()['id']}")
    assert export["status"] == "done" and export["rows"] == 4
    download = api["researcher"].get(f"/api/exports/{export['id']}/file")
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert len(rows) == 4
    assert "0121 496 0018" not in download.text and "[phone]" in download.text
    assert {r_["segment_text"] for r_ in rows} >= {"Queue was lon"}


def test_an_empty_survey_export_is_refused_and_nothing_is_queued(api, survey):
    r = api["researcher"].post("/api/exports", json={"survey_id": survey["id"],
                                                     "format": "qdpx"})
    assert r.status_code == 409 and "no answers" in r.json()["detail"]
    assert api["researcher"].get("/api/exports").json() == []


def test_xlsform_upload(api):
    r = api["communicator"].post("/api/surveys/xlsform",
                                 files={"file": ("form.xlsx", build_form(),
                                                 "application/octet-stream")})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["survey"]["target_languages"] == ["ur", "pl"]
    assert any("'calculate'" in line for line in body["report"]["unsupported"])
    age = next(q for q in body["survey"]["questions"] if q["name"] == "age")
    assert (age["kind"], age["options"]) == ("integer", {"min": 16})
    r = api["communicator"].post("/api/surveys/xlsform",
                                 files={"file": ("form.xlsx", b"not a spreadsheet", "text/plain")})
    assert r.status_code == 400 and "XLSForm" in r.json()["detail"]


def test_withdrawal_over_http_reports_what_was_deleted(api, survey):
    s = start(api, "collector", survey)
    c = api["collector"]
    c.post(f"/api/sessions/{s['id']}/consent", data={"method": "tick"})
    c.post(f"/api/sessions/{s['id']}/answers", data={"question_id": survey["questions"][1]["id"],
                                                     "text": "Please forget me"})
    assert api["collector2"].post(f"/api/sessions/{s['id']}/withdraw").status_code == 404
    r = c.post(f"/api/sessions/{s['id']}/withdraw")
    assert r.status_code == 200, r.text
    assert r.json()["deleted"]["answers"] == 1
    assert api["reviewer"].get("/api/answers").json() == []


def test_audio_prompts_are_uploaded_and_played_back(api, survey):
    q = survey["questions"][1]["id"]
    audio = b"RIFF\x24\x00\x00\x00WAVEfmt a recorded question"
    r = api["communicator"].put(f"/api/surveys/questions/{q}/prompts/ur",
                                files={"file": ("ur.wav", audio, "audio/wav")})
    assert r.status_code == 200, r.text
    r = api["collector"].get(f"/api/surveys/questions/{q}/prompts/ur")
    assert r.status_code == 200 and r.content == audio
    assert r.headers["content-type"].startswith("audio/wav")
    r = api["communicator"].put(f"/api/surveys/questions/{q}/prompts/pl",
                                files={"file": ("notes.txt", b"hello", "text/plain")})
    assert r.status_code == 400
    assert api["collector"].get(f"/api/surveys/questions/{q}/prompts/pl").status_code == 404


def test_identifiable_exports_are_for_admins_only(api, survey):
    s = start(api, "collector", survey)
    api["collector"].post(f"/api/sessions/{s['id']}/consent", data={"method": "tick"})
    api["collector"].post(f"/api/sessions/{s['id']}/answers",
                          data={"question_id": survey["questions"][1]["id"], "text": "Fine"})
    r = api["admin"].post("/api/exports", json={"survey_id": survey["id"], "format": "json",
                                                "identifiable": True})
    assert r.status_code == 202, r.text
    export = wait_for(api["admin"], f"/api/exports/{r.json()['id']}")
    assert export["status"] == "done" and export["identifiable"] == 1
    assert api["researcher"].get(f"/api/exports/{export['id']}").status_code == 404
    assert api["researcher"].get(f"/api/exports/{export['id']}/file").status_code == 404
    assert api["researcher"].get("/api/exports").json() == []
    body = api["admin"].get(f"/api/exports/{export['id']}/file").json()
    assert body["pseudonymised"] is False and body["answers"][0]["respondent"].startswith("R-")


def test_codebooks_are_imported_and_exported_as_csv_and_qdc(api):
    csv_text = "name,parent,description,colour,memo\nbarriers,,,#aa0000,\nphone,barriers,,,\n"
    r = api["reviewer"].post("/api/codebooks/import", data={"name": "From CSV"},
                             files={"file": ("codes.csv", csv_text.encode(), "text/csv")})
    assert r.status_code == 201, r.text
    book = r.json()
    assert [c["path"] for c in book["codes"]] == ["barriers", "barriers/phone"]
    qdc = api["researcher"].get(f"/api/codebooks/{book['id']}/export?format=qdc")
    assert qdc.status_code == 200 and b"urn:QDA-XML:codebook:1.0" in qdc.content
    r = api["researcher"].post("/api/codebooks/import", data={"name": "From QDC"},
                               files={"file": ("codes.qdc", qdc.content, "application/xml")})
    assert r.status_code == 201 and [c["path"] for c in r.json()["codes"]] == \
        ["barriers", "barriers/phone"]
    back = api["researcher"].get(f"/api/codebooks/{book['id']}/export").text
    # Written with paths (the hierarchy Taguette reads); a code without a colour gets grey.
    assert back.replace("\r\n", "\n") == (
        '"path","parent","description","colour","memo"\n'
        '"barriers","","","#aa0000",""\n"barriers/phone","barriers","","#888888",""\n')
    assert api["collector"].post("/api/codebooks", json={"name": "x"}).status_code == 403


@pytest.mark.parametrize("csv_bytes, says", [
    (b"name,memo\ncode," + b"m" * 131_073 + b"\n", "field larger than field limit"),
    (b'name,memo\ncode,"' + b"m" * 200_000 + b"\n", "field larger than field limit"),
    # The attack's: a quote never closed was read as a field running to the end (201).
    (b'name,memo\na,"unterminated', "unexpected end of data"),
    (b'name,memo\na,"unterminated\nmmmm,b\n', "unexpected end of data"),
    (b'name,memo\na,"mmmm"mmmm\n', "',' expected after '\"'"),
], ids=["long-field", "unclosed-quote", "unterminated-quote", "unterminated-quote-then-rows",
        "text-after-closing-quote"])
def test_a_codebook_csv_the_csv_module_cannot_read_is_a_clear_400(api, csv_bytes, says):
    r = api["reviewer"].post("/api/codebooks/import", data={"name": "Broken"},
                             files={"file": ("codes.csv", csv_bytes, "text/csv")})
    assert r.status_code == 400, r.text
    body = r.json()
    assert says in body["detail"] and "line 2" in body["detail"] and body["fix"]
    assert "mmmm" not in r.text
    assert api["reviewer"].get("/api/codebooks").json() == []


def test_summary_and_charts_over_http(api, survey):
    s = start(api, "collector", survey)
    api["collector"].post(f"/api/sessions/{s['id']}/consent", data={"method": "tick"})
    api["collector"].post(f"/api/sessions/{s['id']}/answers",
                          data={"question_id": survey["questions"][2]["id"], "choices": ["5"]})
    body = api["communicator"].get(f"/api/surveys/{survey['id']}/summary").json()
    assert body["answers_by_question_and_language"] == [
        {"question": "ease", "language": "en", "answers": 1}]
    r = api["researcher"].get(f"/api/surveys/{survey['id']}/charts/answers")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content[:4] == b"\x89PNG"
    r = api["researcher"].get(f"/api/surveys/{survey['id']}/charts/codes")
    assert r.status_code == 409 and "no codings" in r.json()["detail"]
    assert api["collector"].get(f"/api/surveys/{survey['id']}/summary").status_code == 403
