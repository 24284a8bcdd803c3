"""/api/messages through a real uvicorn server: roles, the translation workflow, the
background job, translator files and exports, as a browser or script would use them."""

from __future__ import annotations

import time

import pytest

FLU = ("Hello {first_name}, you can have a free flu vaccine at your GP surgery. "
       "Call 0121 496 0000 to book.")


@pytest.fixture
def flu(api):
    r = api["communicator"].post("/api/messages", json={
        "title": "Flu invitation", "source_text": FLU, "channel": "sms", "tags": ["flu"]})
    assert r.status_code == 201, r.text
    return r.json()


def wait_for_job(client, job_id: int) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_roles_communicators_draft_researchers_only_read(api, flu):
    r = api["researcher"].post("/api/messages", json={
        "title": "X", "source_text": "Hello.", "channel": "sms"})
    assert r.status_code == 403
    assert "admin or communicator" in r.json()["detail"]
    assert api["researcher"].get("/api/messages").json()[0]["id"] == flu["id"]
    assert api["researcher"].get(f"/api/messages/{flu['id']}/check").status_code == 200
    assert api["collector"].get("/api/messages").status_code == 403
    assert api["anonymous"].get("/api/messages").status_code == 401
    r = api["researcher"].put(f"/api/messages/{flu['id']}/translations/ur",
                                 json={"text": "x", "revision": 0})
    assert r.status_code == 403


def test_communicator_cannot_approve_but_a_reviewer_can(api, flu, copy_packs):
    comm, reviewer = api["communicator"], api["reviewer"]
    r = comm.post(f"/api/messages/{flu['id']}/translate", json={"languages": ["ur"]})
    assert r.status_code == 200, r.text
    assert r.json()["translated"][0]["language"] == "ur"
    r = comm.post(f"/api/messages/{flu['id']}/translations/ur/approve", json={"revision": 1})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "reviewer" in r.json()["detail"]
    assert comm.get(f"/api/messages/{flu['id']}/translations/ur").json()["status"] == "machine"
    r = reviewer.post(f"/api/messages/{flu['id']}/translations/ur/approve", json={"revision": 1})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "approved" and body["approved_by"] == "test-reviewer"
    assert body["sms"]["encoding"] == "GSM-7"   # the copy model returns the English


def test_lost_placeholder_blocks_approval_over_http(api, flu, copy_packs):
    comm, reviewer = api["communicator"], api["reviewer"]
    comm.post(f"/api/messages/{flu['id']}/translate", json={"languages": ["ur"]})
    r = reviewer.put(f"/api/messages/{flu['id']}/translations/ur",
                     json={"text": "ہیلو، اپنے جی پی سے مفت فلو ویکسین لیں۔ 0121 496 0000 پر کال کریں۔",
                           "revision": 1})
    assert r.json()["placeholder_problems"][0]["placeholder"] == "{first_name}"
    assert r.json()["sms"]["encoding"] == "UCS-2"
    r = reviewer.post(f"/api/messages/{flu['id']}/translations/ur/approve", json={"revision": 2})
    assert r.status_code == 422
    assert "{first_name}" in r.json()["detail"]
    assert r.json()["placeholder_problems"][0]["placeholder"] == "{first_name}"


def test_editing_the_source_over_http_makes_translations_stale(api, flu, copy_packs):
    comm = api["communicator"]
    comm.post(f"/api/messages/{flu['id']}/translate", json={"languages": ["ur", "pl"]})
    r = comm.patch(f"/api/messages/{flu['id']}", json={"source_text": FLU + " Thank you.",
                                                        "version": 1})
    assert r.status_code == 200 and r.json()["version"] == 2
    assert r.json()["translations"] == {"pl": "stale", "ur": "stale"}
    t = comm.get(f"/api/messages/{flu['id']}/translations/ur").json()
    assert t["text"].startswith("Hello {first_name}") and t["source_version"] == 1
    assert len(comm.get(f"/api/messages/{flu['id']}/versions").json()) == 2


def test_many_translations_run_as_a_durable_job(api, flu, copy_packs):
    comm = api["communicator"]
    other = comm.post("/api/messages", json={"title": "Measles", "channel": "whatsapp",
                                             "source_text": "Check your child has had two MMR doses."}).json()
    r = comm.post("/api/messages/translate", json={"message_ids": [flu["id"], other["id"]],
                                                   "languages": ["ur", "pl", "bn"]})
    assert r.status_code == 202, r.text
    job = wait_for_job(comm, r.json()["job_id"])
    assert job["status"] == "done" and job["result"]["translated"] == 6
    coverage = comm.get("/api/messages/coverage.json").json()
    assert coverage["languages"] == ["bn", "pl", "ur"]
    assert all(s == "machine" for m in coverage["messages"] for s in m["statuses"].values())


def test_unsupported_or_unknown_languages_are_refused_before_any_job(api, flu, copy_packs):
    comm = api["communicator"]
    r = comm.post(f"/api/messages/{flu['id']}/translate", json={"languages": ["ur", "xx-Fake"]})
    assert r.status_code == 400 and "xx-Fake" in r.json()["detail"]
    r = comm.post("/api/messages/translate", json={"message_ids": [flu["id"]],
                                                   "languages": ["ur", "pl", "ti", "bn", "fa", "ar"]})
    assert r.status_code == 422 and "human translation" in r.json()["detail"]
    assert comm.get("/api/jobs").json() == []
    r = comm.post("/api/messages", json={"title": "Long", "channel": "letter",
                                         "source_text": "word " * 1200})
    assert r.status_code == 413 and "5,000" in r.json()["detail"]


def test_xliff_and_po_through_http_and_a_file_for_another_message_is_refused(api, flu):
    comm = api["communicator"]
    comm.post(f"/api/messages/{flu['id']}/human-requests", json={"languages": ["so", "pa-Guru"]})
    r = comm.get(f"/api/messages/{flu['id']}/export.xlf", params={"language": "pa-Guru"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xliff+xml")
    xlf = r.content.replace(b"</source>", "</source><target>ਪੰਜਾਬੀ</target>".encode())
    other = comm.post("/api/messages", json={"title": "Other", "channel": "poster",
                                             "source_text": "Wash your hands."}).json()
    r = comm.post(f"/api/messages/{other['id']}/import", content=xlf)
    assert r.status_code == 400 and f"for message {flu['id']}" in r.json()["detail"]
    r = comm.post(f"/api/messages/{flu['id']}/import", content=xlf)
    assert r.status_code == 200 and r.json()["format"] == "XLIFF 2.0"
    assert comm.get(f"/api/messages/{flu['id']}/translations/pa-Guru").json()["text"] == "ਪੰਜਾਬੀ ਪੰਜਾਬੀ"

    from translate.storage import po
    po_file = po.pofile.parsestring(
        comm.get(f"/api/messages/{flu['id']}/export.po", params={"language": "so"}).content)
    for unit in po_file.units:
        if not unit.isheader():
            unit.target = "Soomaali: " + unit.source
    r = comm.post(f"/api/messages/{flu['id']}/import", content=bytes(po_file))
    assert r.status_code == 200, r.text
    assert r.json()["format"] == "PO"
    so = comm.get(f"/api/messages/{flu['id']}/translations/so").json()
    assert api["reviewer"].post(f"/api/messages/{flu['id']}/translations/so/approve",
                                json={"revision": so["revision"]}).status_code == 200


def test_exports_csv_text_and_rtl_html(api, copy_packs):
    comm, reviewer = api["communicator"], api["reviewer"]
    m = comm.post("/api/messages", json={"title": "Flu & you", "channel": "letter",
                                         "source_text": "Get your flu vaccine."}).json()
    comm.put(f"/api/messages/{m['id']}/translations/ur",
             json={"text": "اپنی فلو ویکسین لگوائیں۔", "revision": 0})
    reviewer.post(f"/api/messages/{m['id']}/translations/ur/approve", json={"revision": 1})
    page = api["researcher"].get(f"/api/messages/{m['id']}/page.html")
    assert page.headers["content-type"].startswith("text/html")
    assert '<section lang="ur" dir="rtl">' in page.text and "Flu &amp; you" in page.text
    text = api["researcher"].get(f"/api/messages/{m['id']}/text", params={"language": "ur"})
    assert text.text == "اپنی فلو ویکسین لگوائیں۔\n"
    csv = api["researcher"].get("/api/messages/coverage.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines() == ['"message_id","title","channel","version","ur"',
                                     f'{m["id"]},"Flu & you","letter",1,"approved"']


def test_an_approval_names_the_revision_read_and_a_changed_translation_is_refused(
        api, flu, copy_packs):
    comm, reviewer = api["communicator"], api["reviewer"]
    url = f"/api/messages/{flu['id']}/translations/pl"
    comm.post(f"/api/messages/{flu['id']}/translate", json={"languages": ["pl"]})
    seen = reviewer.get(url).json()                      # the reviewer opens it
    # ... and meanwhile a communicator saves other words over it.
    r = comm.put(url, json={"text": "Cześć {first_name}, nie szczep się. 0121 496 0000.",
                            "revision": seen["revision"]})
    assert r.status_code == 200
    r = reviewer.post(url + "/approve", json={"revision": seen["revision"]})
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["code"] == "translation-changed"
    assert "reload and review again" in problem["fix"]
    assert problem["current_revision"] == seen["revision"] + 1
    assert "szczep" not in problem["detail"]             # names revisions, not words
    assert reviewer.get(url).json()["status"] == "needs_review"
    # An approval that names no revision is refused as bad input, approving nothing.
    r = reviewer.post(url + "/approve")
    assert r.status_code == 422 and reviewer.get(url).json()["status"] == "needs_review"
    # Approving what was read works, and a retry of the same approval is harmless.
    now = reviewer.get(url).json()
    r = reviewer.post(url + "/approve", json={"revision": now["revision"]})
    assert r.status_code == 200 and r.json()["text"] == now["text"]
    again = reviewer.post(url + "/approve", json={"revision": now["revision"]})
    assert again.status_code == 200 and again.json()["revision"] == r.json()["revision"]


def test_two_editors_of_one_version_the_second_is_refused_not_lost(api, flu, copy_packs):
    comm, admin = api["communicator"], api["admin"]
    url = f"/api/messages/{flu['id']}"
    first = comm.patch(url, json={"source_text": FLU + " Thank you.", "version": 1})
    assert first.status_code == 200 and first.json()["version"] == 2
    r = admin.patch(url, json={"source_text": FLU + " Bring your red book.", "version": 1})
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["code"] == "message-changed" and problem["current_version"] == 2
    assert "reload" in problem["fix"]
    message = comm.get(url).json()
    assert message["version"] == 2 and message["source_text"].endswith("Thank you.")
    assert len(comm.get(url + "/versions").json()) == 2
    assert admin.patch(url, json={"title": "Renamed"}).status_code == 422  # no version: refused
    # A translation edit is checked the same way.
    comm.post(f"{url}/translate", json={"languages": ["pl"]})
    t = comm.get(f"{url}/translations/pl").json()
    assert comm.put(f"{url}/translations/pl", json={"text": "Pierwsza {first_name}.",
                                                    "revision": t["revision"]}).status_code == 200
    r = admin.put(f"{url}/translations/pl", json={"text": "Druga {first_name}.",
                                                  "revision": t["revision"]})
    assert r.status_code == 409 and r.json()["code"] == "translation-changed"
    assert comm.get(f"{url}/translations/pl").json()["text"] == "Pierwsza {first_name}."
