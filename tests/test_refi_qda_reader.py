"""cohear's .qdpx read back by a reader written from the REFI-QDA standard (QDA-XML 1.0:
a zip with project.qde, texts as files under sources/ named by `plainTextPath`
`internal://…`, offsets in characters), not from cohear's writer: every source, code,
coding (with its coder and exact offsets, Urdu and emoji included) and case."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lxml import etree

from surveys import coding, exports, service

NS = "urn:QDA-XML:project:1.0"
XSD = Path(__file__).resolve().parent / "data" / "refi-qda-Project.xsd"


# -- a minimal REFI-QDA project reader ------------------------------------------------------

@dataclass
class Selection:
    start: int
    end: int
    coder: str       # the User's name, from creatingUser
    codes: list[str]  # code paths
    words: str


@dataclass
class Source:
    guid: str
    name: str
    text: str
    selections: list[Selection] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)


@dataclass
class Project:
    users: dict[str, str]
    codes: dict[str, str]          # guid -> path
    sources: dict[str, Source]
    cases: dict[str, list[str]]    # case name -> source guids
    whole_source_codings: int      # <Coding> directly under a source (tools ignore them)


def q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def read_qdpx(path: Path) -> Project:
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("project.qde"))
        members = set(zf.namelist())

        def internal(url: str) -> str:
            # The standard: internal:// names a file in the project's sources folder.
            assert url.startswith("internal://"), url
            name = "sources/" + url[len("internal://"):]
            assert name in members, name
            return zf.read(name).decode("utf-8")

        users = {u.get("guid"): u.get("name") for u in root.iterfind(f"{q('Users')}/{q('User')}")}
        codes: dict[str, str] = {}

        def walk(el, prefix: str) -> None:
            for code in el.iterfind(q("Code")):
                p = f"{prefix}/{code.get('name')}" if prefix else code.get("name")
                codes[code.get("guid")] = p
                walk(code, p)

        for book in root.iterfind(f"{q('CodeBook')}/{q('Codes')}"):
            walk(book, "")
        variables = {v.get("guid"): v.get("name")
                     for v in root.iterfind(f"{q('Variables')}/{q('Variable')}")}
        sources: dict[str, Source] = {}
        whole = 0
        for ts in root.iterfind(f"{q('Sources')}/{q('TextSource')}"):
            assert ts.find(q("PlainTextContent")) is None or ts.get("plainTextPath") is None
            text = internal(ts.get("plainTextPath"))
            src = Source(ts.get("guid"), ts.get("name"), text)
            for sel in ts.iterfind(q("PlainTextSelection")):
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
                assert 0 <= start <= end <= len(text)
                assert sel.get("creationDateTime")
                src.selections.append(Selection(
                    start, end, users[sel.get("creatingUser")],
                    [codes[r.get("targetGUID")] for r in sel.iter(q("CodeRef"))],
                    text[start:end]))
            whole += len(ts.findall(q("Coding")))
            for vv in ts.iterfind(q("VariableValue")):
                src.variables[variables[vv.find(q("VariableRef")).get("targetGUID")]] = \
                    vv.findtext(q("TextValue"))
            sources[src.guid] = src
        cases = {c.get("name"): [r.get("targetGUID") for r in c.iterfind(q("SourceRef"))]
                 for c in root.iterfind(f"{q('Cases')}/{q('Case')}")}
    return Project(users, codes, sources, cases, whole)


# -- the project cohear writes ---------------------------------------------------------------

URDU = "ڈاکٹر 👍 بہت اچھے تھے لیکن 😡 فون کی لائن خراب ہے"
ENGLISH = "The doctor was great 👍 but the phone line is bad"


@pytest.fixture
def users(people):
    return {role: user for role, (user, _) in people.items()}


@pytest.fixture
def project(store, users):
    comm, col, rev, res = (users[r] for r in ("communicator", "collector", "reviewer",
                                              "researcher"))
    s = service.create_survey(store, comm, title="GP", purpose="GP access", base_language="en",
                              target_languages=["ur"], questions=[
                                  {"kind": "consent", "name": "consent", "text": "Agree?"},
                                  {"kind": "open", "name": "story", "text": "Tell us"},
                                  {"kind": "scale", "name": "trust", "text": "Trust?",
                                   "options": {"min": 1, "max": 5}}])
    service.open_language(store, comm, s["id"], "ur", accept_english=True)
    service.open_language(store, comm, s["id"], "en")
    qs = {x["name"]: x["id"] for x in s["questions"]}
    cb = coding.create_codebook(store, res, "Themes", codes=[
        {"name": "care"}, {"name": "phone", "parent": "care"}, {"name": "emotion"}])
    code = {c["name"]: c["id"] for c in cb["codes"]}

    sess = service.start_session(store, col, s["id"], "ur")
    service.record_consent(store, col, sess["id"], method="tick")
    urdu = service.submit_answer(store, col, sess["id"], qs["story"], text=URDU)
    trust = service.submit_answer(store, col, sess["id"], qs["trust"], text="4")
    english = service.add_text_version(store, rev, urdu["id"], ENGLISH, rendering="english")
    original = urdu["texts"]["original"]
    phone = URDU.index("فون کی لائن")
    # The same span by two coders: two codings, each with its coder.
    for coder in (rev, res):
        coding.apply_code(store, coder, urdu["id"], code["phone"], answer_text_id=original["id"],
                          start=phone, end=phone + len("فون کی لائن"))
    emoji = URDU.index("😡")
    coding.apply_code(store, res, urdu["id"], code["emotion"], answer_text_id=original["id"],
                      start=emoji, end=emoji + 1)
    bad = ENGLISH.index("the phone line is bad")
    coding.apply_code(store, rev, urdu["id"], code["phone"], answer_text_id=english["id"],
                      start=bad, end=len(ENGLISH))
    coding.apply_code(store, res, urdu["id"], code["care"])          # whole answer
    coding.apply_code(store, rev, trust["id"], code["care"])         # whole, no words

    sess2 = service.start_session(store, col, s["id"], "en")
    service.record_consent(store, col, sess2["id"], method="tick")
    first = service.submit_answer(store, col, sess2["id"], qs["story"], text="Old words here")
    old = first["texts"]["original"]
    coding.apply_code(store, rev, first["id"], code["emotion"], answer_text_id=old["id"],
                      start=4, end=9)
    service.add_text_version(store, rev, first["id"], "New words now")  # the coded one is older
    return {"survey": s, "phone": phone, "emoji": emoji, "bad": bad}


def test_a_reader_written_from_the_standard_finds_every_source_code_coding_and_case(
        store, users, project, tmp_path):
    out = tmp_path / "survey.qdpx"
    exports.export_survey(store, users["researcher"], project["survey"]["id"], "qdpx", out)
    with zipfile.ZipFile(out) as zf:
        etree.XMLSchema(etree.parse(str(XSD))).assertValid(etree.fromstring(zf.read("project.qde")))
    p = read_qdpx(out)

    assert sorted(p.users.values()) == ["test-researcher", "test-reviewer"]
    assert sorted(p.codes.values()) == ["care", "care/phone", "emotion"]
    assert p.whole_source_codings == 0  # every coding is a selection, as importers expect

    by_what = {(s.variables["question"], s.variables["rendering"], s.variables["language"]): s
               for s in p.sources.values()}
    assert set(by_what) == {("story", "original", "ur"), ("story", "english", "en"),
                            ("trust", "choices", "ur"), ("story", "original", "en")}
    assert len(p.sources) == 5  # the English respondent's newest and older coded version
    urdu = by_what[("story", "original", "ur")]
    assert urdu.text == URDU

    def found(src):
        return sorted((sel.words, sel.start, sel.end, sel.coder, tuple(sel.codes))
                      for sel in src.selections)

    phone, emoji = project["phone"], project["emoji"]
    assert found(urdu) == sorted([
        ("فون کی لائن", phone, phone + 11, "test-reviewer", ("care/phone",)),
        ("فون کی لائن", phone, phone + 11, "test-researcher", ("care/phone",)),
        ("😡", emoji, emoji + 1, "test-researcher", ("emotion",)),
        (URDU, 0, len(URDU), "test-researcher", ("care",))])
    # Offsets count code points: the 👍 before the span is one character, not two.
    assert emoji == URDU.index("😡") and len("👍") == 1
    english = by_what[("story", "english", "en")]
    assert english.text == ENGLISH
    assert found(english) == [("the phone line is bad", project["bad"], len(ENGLISH),
                               "test-reviewer", ("care/phone",))]
    trust = by_what[("trust", "choices", "ur")]
    assert trust.text == "4" and found(trust) == [("4", 0, 1, "test-reviewer", ("care",))]
    olds = [s for s in p.sources.values() if s.variables["language"] == "en"
            and s.variables["rendering"] == "original"]
    assert sorted(s.text for s in olds) == ["New words now", "Old words here"]
    old = next(s for s in olds if s.text == "Old words here")
    assert found(old) == [("words", 4, 9, "test-reviewer", ("emotion",))]
    assert len({s.name for s in p.sources.values()}) == len(p.sources)  # importers need this

    # Each respondent is a case linked to exactly their sources.
    assert len(p.cases) == 2 and all(name.startswith("P-") for name in p.cases)
    linked = sorted(g for guids in p.cases.values() for g in guids)
    assert linked == sorted(p.sources)
    for name, guids in p.cases.items():
        assert {p.sources[g].variables["respondent"] for g in guids} == {name}
