"""Codebooks, coding and inter-coder agreement: hierarchical codes, CSV and REFI-QDA
codebook exchange, whole-answer and span codings, kappa and alpha checked by hand."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from cohear.errors import BadInput, Conflict, NotFound
from surveys import agreement, coding, service

XSD = Path(__file__).resolve().parent / "data" / "refi-qda-Project.xsd"


@pytest.fixture
def users(people):
    return {role: user for role, (user, _) in people.items()}


@pytest.fixture
def answers(store, users):
    """Ten text answers to one open question, each from its own respondent."""
    s = service.create_survey(store, users["communicator"], title="Access", purpose="Find out",
                              base_language="en", questions=[
                                  {"kind": "consent", "name": "consent", "text": "Agree?"},
                                  {"kind": "open", "name": "story", "text": "Tell us"}])
    service.open_language(store, users["communicator"], s["id"], "en")
    out = []
    for i in range(10):
        sess = service.start_session(store, users["collector"], s["id"], "en")
        service.record_consent(store, users["collector"], sess["id"], method="tick")
        out.append(service.submit_answer(store, users["collector"], sess["id"],
                                         s["questions"][1]["id"],
                                         text=f"Answer number {i + 1} about the surgery"))
    return {"survey": s, "answers": out}


@pytest.fixture
def codebook(store, users):
    return coding.create_codebook(store, users["researcher"], "Access themes", codes=[
        {"name": "barriers", "description": "What stops people", "colour": "#aa0000"},
        {"name": "access", "parent": "barriers", "description": "Getting an appointment",
         "memo": "includes phone queues"},
        {"name": "cost", "parent": "barriers", "colour": "#00aa00"},
        {"name": "trust"},
    ])


def code_id(cb, name):
    return next(c["id"] for c in cb["codes"] if c["name"] == name)


def test_a_codebook_is_hierarchical_with_descriptions_colours_and_memos(codebook):
    paths = [c["path"] for c in codebook["codes"]]
    assert paths == ["barriers", "barriers/access", "barriers/cost", "trust"]
    access = codebook["codes"][1]
    assert access["memo"] == "includes phone queues" and access["depth"] == 1
    assert codebook["codes"][0]["colour"] == "#aa0000"


def test_codebook_csv_round_trip(store, users, codebook):
    text = coding.export_codebook_csv(store, codebook["id"])
    assert text.splitlines()[0] == '"path","parent","description","colour","memo"'
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["path"], r["parent"]) for r in rows] == [
        ("barriers", ""), ("barriers/access", "barriers"), ("barriers/cost", "barriers"),
        ("trust", "")]
    again = coding.import_codebook_csv(store, users["researcher"], "Copy", text)
    strip = [(c["path"], c["description"], c["colour"], c["memo"]) for c in codebook["codes"]]
    assert [(c["path"], c["description"], c["colour"], c["memo"]) for c in again["codes"]] == strip


def test_codebook_csv_paths_round_trip_three_levels_odd_names_and_formulas(store, users):
    """Hierarchy travels as a `path` column (Parent/Child); a `/` inside a name, a name
    a spreadsheet would run, and Urdu all come back exactly."""
    cb = coding.create_codebook(store, users["researcher"], "Deep", codes=[
        {"name": "access", "colour": "#123456", "memo": "=memo(1)"},
        {"name": "phone/online", "parent": "access", "description": "-booking"},
        {"name": "=cmd|' /C calc'!A0", "parent": "phone/online", "memo": "@risky"},
        {"name": "رسائی", "parent": "access"},
        {"name": "back\\slash"}])
    text = coding.export_codebook_csv(store, cb["id"])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["path"] for r in rows] == [
        "access", r"access/phone\/online", r"access/phone\/online/=cmd|' \/C calc'!A0",
        "access/رسائی", r"back\\slash"]
    assert rows[0]["memo"] == "'=memo(1)" and rows[1]["description"] == "'-booking"
    by_name = {c["name"]: c for c in cb["codes"]}
    again = coding.import_codebook_csv(store, users["researcher"], "Deep copy", text)
    got = {c["name"]: c for c in again["codes"]}
    assert set(got) == set(by_name)
    for name, c in by_name.items():
        assert (got[name]["path"], got[name]["description"], got[name]["colour"],
                got[name]["memo"]) == (c["path"], c["description"], c["colour"], c["memo"])
    # No cell of the file starts with anything a spreadsheet would run.
    for row in csv.reader(io.StringIO(text)):
        assert not any(cell[:1] in ("=", "+", "-", "@") for cell in row)


def test_a_taguette_codebook_export_imports(store, users):
    """Taguette 1.5 writes `tag,description,number of highlights,number of documents`."""
    text = ("tag,description,number of highlights,number of documents\r\n"
            "barriers,What stops people,3,2\r\nbarriers/cost,Money,1,1\r\n")
    cb = coding.import_codebook_csv(store, users["researcher"], "From Taguette", text)
    assert [(c["path"], c["description"]) for c in cb["codes"]] == [
        ("barriers", "What stops people"), ("barriers/cost", "Money")]


def test_codebook_csv_children_may_come_before_parents_but_not_in_a_loop(store, users):
    cb = coding.import_codebook_csv(store, users["reviewer"], "Out of order",
                                    "name,parent\nchild,top\ntop,\n")
    assert [c["path"] for c in cb["codes"]] == ["top", "top/child"]
    with pytest.raises(BadInput):
        coding.import_codebook_csv(store, users["reviewer"], "Loop", "name,parent\na,b\nb,a\n")
    with pytest.raises(BadInput):
        coding.import_codebook_csv(store, users["reviewer"], "No names", "title\nx\n")
    assert [b["name"] for b in coding.list_codebooks(store)] == ["Out of order"]


def test_qdc_codebook_round_trip_and_its_codes_validate_against_refi_qda(store, users, codebook):
    from lxml import etree

    data = coding.export_qdc(store, codebook["id"])
    again = coding.import_qdc(store, users["researcher"], "From QDC", data)
    assert [(c["path"], c["memo"], c["colour"]) for c in again["codes"]] == \
        [(c["path"], c["memo"], c["colour"]) for c in codebook["codes"]]
    # The .qdc codebook uses the same Code type as a project; validate it inside one.
    text = data.decode().replace(coding.QDC_NS, "urn:QDA-XML:project:1.0")
    code_book = etree.fromstring(text.encode())
    del code_book.attrib["origin"]  # allowed on a .qdc's root, not on a project's CodeBook
    project = etree.Element("{urn:QDA-XML:project:1.0}Project", name="check")
    project.append(code_book)
    etree.XMLSchema(etree.parse(str(XSD))).assertValid(project)


def test_a_code_applies_to_a_whole_answer_or_a_span_of_one_text_version(store, users, answers,
                                                                        codebook):
    a = answers["answers"][0]
    original = a["texts"]["original"]
    english = service.add_text_version(store, users["reviewer"], a["id"],
                                       "Answer one about the surgery", rendering="english")
    whole = coding.apply_code(store, users["researcher"], a["id"], code_id(codebook, "trust"))
    assert whole["answer_text_id"] is None and whole["start_offset"] is None
    span = coding.apply_code(store, users["reviewer"], a["id"], code_id(codebook, "access"),
                             answer_text_id=original["id"], start=0, end=6)
    assert original["text"][span["start_offset"]:span["end_offset"]] == "Answer"
    on_english = coding.apply_code(store, users["reviewer"], a["id"], code_id(codebook, "cost"),
                                   answer_text_id=english["id"], start=7, end=10)
    assert on_english["answer_text_id"] == english["id"]
    coders = {c["coder"] for c in coding.codings_for_answer(store, a["id"])}
    assert coders == {"test-researcher", "test-reviewer"}


@pytest.mark.parametrize("start,end", [(0, 999), (-1, 3), (5, 5), (8, 2)])
def test_a_span_outside_the_text_is_refused_and_nothing_is_coded(store, users, answers, codebook,
                                                                 start, end):
    a = answers["answers"][0]
    with pytest.raises(BadInput) as err:
        coding.apply_code(store, users["reviewer"], a["id"], code_id(codebook, "access"),
                          answer_text_id=a["texts"]["original"]["id"], start=start, end=end)
    assert "outside the text" in err.value.detail
    assert store.one("SELECT count(*) FROM codings")[0] == 0


def test_a_span_must_be_in_the_answers_own_text(store, users, answers, codebook):
    a, b = answers["answers"][:2]
    with pytest.raises(NotFound):
        coding.apply_code(store, users["reviewer"], a["id"], code_id(codebook, "access"),
                          answer_text_id=b["texts"]["original"]["id"], start=0, end=3)


# Two coders, ten answers. Coder A applies "access" to answers 1-6 and "cost" to 7-10;
# coder B applies "access" to 1-4 and 7, and "cost" to 5, 6, 8, 9, 10. Both coded all ten.
A_CODES = {"access": [1, 2, 3, 4, 5, 6], "cost": [7, 8, 9, 10]}
B_CODES = {"access": [1, 2, 3, 4, 7], "cost": [5, 6, 8, 9, 10]}


def test_cohens_kappa_matches_the_hand_computation(store, users, answers, codebook):
    coder_a, coder_b = users["reviewer"], users["researcher"]
    for coder, plan in ((coder_a, A_CODES), (coder_b, B_CODES)):
        for name, numbers in plan.items():
            for n in numbers:
                coding.apply_code(store, coder, answers["answers"][n - 1]["id"],
                                  code_id(codebook, name))
    result = agreement.survey_agreement(store, users["researcher"], answers["survey"]["id"],
                                        [coder_a.id, coder_b.id])
    by_code = {c["code"]: c for c in result["codes"]}
    # "access": both 1-4 (4), A only 5,6 (2), B only 7 (1), neither 8-10 (3); n = 10.
    #   p_o = (4 + 3) / 10 = 0.7
    #   A: yes 6, no 4; B: yes 5, no 5 -> p_e = (6*5 + 4*5) / 100 = 0.5
    #   kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    access = by_code["access"]
    assert access["confusion"] == {"both": 4, "first_only": 2, "second_only": 1, "neither": 3}
    assert access["observed_agreement"] == pytest.approx(0.7)
    assert access["expected_agreement"] == pytest.approx(0.5)
    assert access["kappa"] == pytest.approx(0.4)
    # "cost": both 8-10 (3), A only 7 (1), B only 5,6 (2), neither 1-4 (4): p_o = 0.7;
    #   A: yes 4, no 6; B: yes 5, no 5 -> p_e = (4*5 + 6*5) / 100 = 0.5 -> kappa = 0.4
    assert by_code["cost"]["confusion"] == {"both": 3, "first_only": 1, "second_only": 2,
                                            "neither": 4}
    assert by_code["cost"]["kappa"] == pytest.approx(0.4)
    # Overall pools the 20 decisions: both 7, A only 3, B only 3, neither 7:
    #   p_o = 14/20 = 0.7; A yes 10/20, B yes 10/20 -> p_e = 0.5 -> kappa = 0.4
    assert result["overall"]["confusion"] == {"both": 7, "first_only": 3, "second_only": 3,
                                              "neither": 7}
    assert result["overall"]["kappa"] == pytest.approx(0.4)
    # Krippendorff's alpha for "access" (two coders, no missing values): coincidences
    #   o(1,1) = 8, o(1,0) = o(0,1) = 3, o(0,0) = 6; n = 20, n1 = 11, n0 = 9
    #   D_o = 6/20 = 0.3; D_e = 2*11*9 / (20*19) = 198/380
    #   alpha = 1 - 0.3 / (198/380) = 1 - 114/198 = 14/33
    assert access["alpha"] == pytest.approx(14 / 33)
    assert access["coincidences"] == {"applied_applied": 8, "applied_not": 3, "not_applied": 3,
                                      "not_not": 6}


def test_kappa_for_three_categories_by_hand():
    # rater A \ rater B:  x   y   z
    #             x      [5,  1,  0]
    #             y      [2,  3,  1]
    #             z      [0,  1,  7]     n = 20
    # p_o = (5 + 3 + 7) / 20 = 0.75
    # A's margins x 6, y 6, z 8; B's margins x 7, y 5, z 8
    # p_e = (6*7 + 6*5 + 8*8) / 400 = 136/400 = 0.34
    # kappa = (0.75 - 0.34) / (1 - 0.34) = 0.41 / 0.66 = 0.621212...
    table = {("x", "x"): 5, ("x", "y"): 1, ("y", "x"): 2, ("y", "y"): 3, ("y", "z"): 1,
             ("z", "y"): 1, ("z", "z"): 7}
    pairs = [pair for pair, k in table.items() for _ in range(k)]
    result = agreement.cohen_kappa(pairs)
    assert result["n"] == 20 and result["confusion"] == table
    assert result["kappa"] == pytest.approx(0.41 / 0.66)


def test_krippendorffs_alpha_with_missing_values_matches_the_published_example():
    # Krippendorff's (2011) reliability data: 4 observers, 12 units, nominal alpha = 0.743.
    data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    units = list(zip(*data, strict=True))
    assert agreement.krippendorff_alpha(units)["alpha"] == pytest.approx(0.743, abs=5e-4)


def test_alpha_for_three_coders_and_agreement_needs_two(store, users, answers, codebook):
    admin = users["admin"]
    for coder in (users["reviewer"], users["researcher"], admin):
        for a in answers["answers"][:4]:
            coding.apply_code(store, coder, a["id"], code_id(codebook, "trust"))
    coding.apply_code(store, admin, answers["answers"][4]["id"], code_id(codebook, "cost"))
    result = agreement.survey_agreement(store, users["reviewer"], answers["survey"]["id"])
    assert len(result["coders"]) == 3 and "kappa" not in result["overall"]
    trust = next(c for c in result["codes"] if c["code"] == "trust")
    # Every coder who saw answers 1-4 applied "trust"; only the admin saw answer 5 (one
    # value: not pairable). All pairable values agree on 1 -> no expected disagreement.
    assert trust["alpha"] is None
    with pytest.raises(Conflict):
        agreement.survey_agreement(store, users["reviewer"], answers["survey"]["id"],
                                   [users["reviewer"].id])


def test_agreement_from_the_database_matches_the_unit_by_unit_computation(store, users, answers,
                                                                         codebook):
    import random

    rng = random.Random(3)
    coders = [users["reviewer"], users["researcher"], users["admin"]]
    names = ["access", "cost", "trust"]
    units = {name: [] for name in names}
    for a in answers["answers"]:
        row = {name: [] for name in names}
        for coder in coders:
            if rng.random() < 0.2:  # this coder never looked at this answer
                for name in names:
                    row[name].append(None)
                continue
            chosen = [n for n in names if rng.random() < 0.5] or [names[0]]
            for name in names:
                row[name].append(int(name in chosen))
                if name in chosen:
                    coding.apply_code(store, coder, a["id"], code_id(codebook, name))
        for name in names:
            units[name].append(row[name])
    result = agreement.survey_agreement(store, users["researcher"], answers["survey"]["id"])
    for item in result["codes"]:
        expected = agreement.krippendorff_alpha(units[item["code"]])["alpha"]
        assert item["alpha"] == pytest.approx(expected)
    pooled = [u for name in names for u in units[name]]
    expected = agreement.krippendorff_alpha(pooled)["alpha"]
    assert result["overall"]["alpha"] == pytest.approx(expected)
    two = agreement.survey_agreement(store, users["researcher"], answers["survey"]["id"],
                                     [coders[0].id, coders[1].id])
    for item in two["codes"]:
        pairs = [(u[0], u[1]) for u in units[item["code"]] if None not in u[:2]]
        assert item["kappa"] == pytest.approx(agreement.cohen_kappa(pairs)["kappa"])
