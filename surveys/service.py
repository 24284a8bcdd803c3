"""Surveys and collection: surveys with versioned, typed questions in every language,
respondents, sessions, consent, answers (one per question and session, in versions),
review status and safeguarding.

Codebooks and coding live in `coding.py`, agreement in `agreement.py`, exports in
`exports.py`, withdrawal in `withdrawal.py` (re-exported here); this module holds the
rules for getting answers in.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
from collections.abc import Iterator
from typing import IO, Any

from cohear import audit, limits
from cohear import text as text_rule
from cohear.auth import User
from cohear.errors import BadInput, Conflict, NotFound, TooLarge, Unprocessable
from cohear.permissions import register
from cohear.store import Store, utcnow
from surveys import labels, links, redaction, values
from surveys.questions import edit_question, move_question  # noqa: F401 - in their own module
from surveys.safeguarding import keyword_hits
from surveys.withdrawal import withdraw_consent  # noqa: F401 - withdrawal has its own module

ADMIN, COMMUNICATOR, COLLECTOR = "admin", "communicator", "collector"
REVIEWER, RESEARCHER = "reviewer", "researcher"

register({
    "surveys.build": {ADMIN, COMMUNICATOR},
    "surveys.read": {ADMIN, COMMUNICATOR, COLLECTOR, REVIEWER, RESEARCHER},
    "surveys.approve_text": {ADMIN, REVIEWER},  # the same reviewers as comms approvals
    # Collectors start sessions with new respondents or respondents they created.
    "sessions.run": {ADMIN, COLLECTOR},
    # Researchers list sessions only as pseudonyms (surveys/views.py), never by their ids.
    "sessions.read": {ADMIN, COLLECTOR, REVIEWER, RESEARCHER},
    "sessions.open": {ADMIN, COLLECTOR, REVIEWER},
    # Researchers read answers redacted and pseudonymised (surveys/views.py).
    "answers.read": {ADMIN, COLLECTOR, REVIEWER, RESEARCHER},
    "answers.read_identifiable": {ADMIN, COLLECTOR, REVIEWER},
    "answers.review": {ADMIN, REVIEWER},
    "safeguarding.raise": {ADMIN, COLLECTOR, REVIEWER},
    "safeguarding.handle": {ADMIN, REVIEWER},
    # The collector who holds the respondent (created them), reviewers and admins.
    "respondents.withdraw": {ADMIN, COLLECTOR, REVIEWER},
}, own_only={
    "sessions.run": {COLLECTOR},
    "sessions.read": {COLLECTOR},
    "sessions.open": {COLLECTOR},
    "answers.read": {COLLECTOR},
    "answers.read_identifiable": {COLLECTOR},
    "safeguarding.raise": {COLLECTOR},
    "respondents.withdraw": {COLLECTOR},
})

QUESTION_KINDS = ("consent", "open", "single_choice", "multiple_choice", "scale", "demographic",
                  *values.VALUE_KINDS)
# Words a question may carry besides its text, each per language (BCP-47 tag -> words):
# help text (XLSForm `hint`), and what to say when an answer is missing or out of range.
WORDS_OPTIONS = ("hint", "required_message", "constraint_message")
MAX_OPTION_WORDS = 4000
DEMOGRAPHIC_FIELDS = ("age_band", "gender", "ethnicity", "postcode_district")
CONSENT_METHODS = ("verbal_recording", "tick")

# NHS ethnic category codes (the 2001 census categories, NHS Data Dictionary).
NHS_ETHNIC_CATEGORIES = {
    "A": "White - British", "B": "White - Irish", "C": "White - Any other White background",
    "D": "Mixed - White and Black Caribbean", "E": "Mixed - White and Black African",
    "F": "Mixed - White and Asian", "G": "Mixed - Any other mixed background",
    "H": "Asian or Asian British - Indian", "J": "Asian or Asian British - Pakistani",
    "K": "Asian or Asian British - Bangladeshi",
    "L": "Asian or Asian British - Any other Asian background",
    "M": "Black or Black British - Caribbean", "N": "Black or Black British - African",
    "P": "Black or Black British - Any other Black background",
    "R": "Other ethnic groups - Chinese", "S": "Other ethnic groups - Any other ethnic group",
    "Z": "Not stated",
}
DEFAULT_AGE_BANDS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+",
                     "prefer not to say")
DEFAULT_GENDERS = ("woman", "man", "non-binary", "in another way", "prefer not to say")

_OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
_FULL_POSTCODE = re.compile(rf"^({_OUTWARD})\s*([0-9][A-Z]{{2}})$")
_DISTRICT = re.compile(rf"^{_OUTWARD}$")
_NAME = re.compile(rf"^[A-Za-z_][A-Za-z0-9_.-]{{0,{limits.QUESTION_NAME_CHARS - 1}}}$")
_SPLIT_SURVEY = (f"a survey holds at most {limits.QUESTIONS_PER_SURVEY:,} questions; "
                 "split it into several surveys")


# -- surveys and questions ----------------------------------------------------------------

def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _survey_dict(row) -> dict:
    item = dict(row)
    item["target_languages"] = json.loads(item.pop("target_languages_json"))
    return item


def _question_dict(row) -> dict:
    item = dict(row)
    item["options"] = json.loads(item.pop("options_json"))
    return item


def _check_language(tag: str) -> str:
    return links.language(tag).tag


def _words_per_language(what: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > 100:
        raise BadInput(f"a question's {what} is given per language",
                       fix=f"send {what} as {{\"en\": \"...\", \"ur\": \"...\"}}")
    out = {}
    for tag, words in value.items():
        words = str(words or "").strip()
        if len(words) > MAX_OPTION_WORDS:
            raise BadInput(f"a question's {what} is longer than {MAX_OPTION_WORDS} characters",
                           fix="shorten it")
        if words:
            out[_check_language(str(tag))] = words
    return out


def _common_options(options: dict) -> dict:
    """What any question may have: help text, required, and the messages per language."""
    out: dict = {}
    for what in WORDS_OPTIONS:
        if options.get(what):
            words = _words_per_language(what, options[what])
            if words:
                out[what] = words
    if options.get("required") not in (None, False):
        if options["required"] is not True:
            raise BadInput("a question's required is true or false", fix="send true or false")
        out["required"] = True
    return out


def normalise_options(kind: str, options: dict | None) -> dict:
    """Check a question's options for its kind; returns the stored form."""
    options = dict(options or {})
    if kind not in QUESTION_KINDS:
        raise BadInput(f"{kind!r} is not a question type",
                       fix="use one of: " + ", ".join(QUESTION_KINDS))
    return _kind_options(kind, options) | _common_options(options)


def _kind_options(kind: str, options: dict) -> dict:
    if kind in values.VALUE_KINDS:
        return values.normalise_range(kind, options)
    if kind == "consent":
        version = options.get("consent_version", 1)
        if not isinstance(version, int) or version < 1:
            raise BadInput("a consent question's consent_version must be a whole number from 1",
                           fix="number each wording of the consent text 1, 2, 3...")
        return {"consent_version": version}
    if kind == "open":
        answer = options.get("answer", "either")
        if answer not in ("voice", "text", "either"):
            raise BadInput(f"an open question's answer must be voice, text or either, "
                           f"not {answer!r}", fix="choose voice, text or either")
        return {"answer": answer}
    if kind in ("single_choice", "multiple_choice"):
        return {"choices": _check_choices(options.get("choices"))}
    if kind == "scale":
        low, high = options.get("min", 1), options.get("max", 5)
        if not (isinstance(low, int) and isinstance(high, int)) or low >= high or high - low > 10:
            raise BadInput(f"a scale runs from a whole number to a larger one (at most 11 points), "
                           f"not {low!r} to {high!r}", fix="use e.g. min 1, max 5")
        labels = _labels(options.get("labels"), "scale labels")
        text_rule.check_each(labels.values(), "scale's label")
        bad = [k for k in labels if not k.lstrip("-").isdigit() or not low <= int(k) <= high]
        if bad:
            raise BadInput(f"scale labels {bad} are outside {low}..{high}",
                           fix="label only points on the scale")
        return {"min": low, "max": high, "labels": labels}
    field = options.get("field")
    if field not in DEMOGRAPHIC_FIELDS:
        raise BadInput(f"a demographic question asks for one of {', '.join(DEMOGRAPHIC_FIELDS)}, "
                       f"not {field!r}", fix="set options.field")
    if field == "ethnicity":
        return {"field": field, "choices": [{"value": k, "label": v}
                                            for k, v in NHS_ETHNIC_CATEGORIES.items()]}
    if field == "postcode_district":
        return {"field": field}
    defaults = DEFAULT_AGE_BANDS if field == "age_band" else DEFAULT_GENDERS
    choices = options.get("choices") or [{"value": d, "label": d} for d in defaults]
    return {"field": field, "choices": _check_choices(choices)}


def _labels(labels: Any, what: str) -> dict[str, str]:
    """A bounded {key: label} mapping (scale points, or a choice's label per language)."""
    if not labels:
        return {}
    if not isinstance(labels, dict):
        raise BadInput(f"{what} must be a mapping", fix="give them as {key: label, ...}")
    limits.check_count(what, len(labels), max(limits.LANGUAGES_PER_SURVEY, 11),
                       fix="label each scale point or language once")
    out = {}
    for k, v in labels.items():
        key, label = str(k), str(v)
        limits.check_chars(f"the key {key[:20]!r} of {what}", key, limits.LANGUAGE_TAG_CHARS,
                           fix="key labels by a scale point or a language tag")
        limits.check_chars(f"the label {key!r}", label, limits.CHOICE_LABEL_CHARS)
        out[key] = label
    return out


def _check_choices(choices: Any) -> list[dict]:
    # One choice is a question ODK and KoboToolbox ask too ("tick if this applies").
    if not isinstance(choices, list) or not choices:
        raise BadInput("a choice question needs at least one choice",
                       fix="give choices as [{'value': ..., 'label': ...}, ...]")
    limits.check_count("choices in one question", len(choices), limits.CHOICES_PER_QUESTION,
                       fix="split the question, or let people answer in their own words")
    out, seen = [], set()
    for c in choices:
        if isinstance(c, (str, int, float)) and not isinstance(c, bool):
            c = {"value": str(c), "label": str(c)}
        if not isinstance(c, dict):
            raise BadInput(f"a choice is {type(c).__name__}, not text or "
                           "{'value': ..., 'label': ...}", fix="give each choice a value")
        text_rule.check_all({"choice's value": str(c.get("value", "")),
                             "choice's label": str(c.get("label") or "")})
        if isinstance(c.get("labels"), dict):
            text_rule.check_each(c["labels"].values(), "choice's label")
        value = str(c.get("value", "")).strip()
        if not value or value in seen:
            raise BadInput(f"choice values must be present and different ({value[:40]!r})",
                           fix="give each choice its own value")
        limits.check_chars(f"the choice value {value[:20]!r}", value, limits.CHOICE_VALUE_CHARS,
                           fix="use a short value and put the words in its label")
        seen.add(value)
        label = str(c.get("label") or value)
        limits.check_chars(f"the label of choice {value[:20]!r}", label, limits.CHOICE_LABEL_CHARS)
        item = {"value": value, "label": label}
        if c.get("labels"):
            item["labels"] = _labels(c["labels"], f"labels of choice {value[:20]!r}")
        out.append(item)
    return out


def create_survey(store: Store, actor: User, *, title: str, purpose: str, base_language: str,
                  target_languages: list[str] | None = None,
                  questions: list[dict] | None = None) -> dict:
    """A new survey (version 1), with its questions if given."""
    actor.require("surveys.build")
    text_rule.check_all({"survey's title": title, "survey's purpose": purpose})
    title, purpose = (title or "").strip(), (purpose or "").strip()
    if not title or not purpose:
        raise BadInput("a survey needs a title and a purpose",
                       fix="say what the survey is for, in a sentence")
    limits.check_chars("the title", title, limits.TITLE_CHARS)
    limits.check_chars("the purpose", purpose, limits.SURVEY_PURPOSE_CHARS)
    limits.check_count("questions in one survey", len(questions or []),
                       limits.QUESTIONS_PER_SURVEY, fix=_SPLIT_SURVEY)
    limits.check_count("target languages", len(target_languages or []),
                       limits.LANGUAGES_PER_SURVEY, fix="open the survey in fewer languages")
    base = _check_language(base_language)
    targets = []
    for tag in target_languages or []:
        tag = _check_language(tag)
        if tag != base and tag not in targets:
            targets.append(tag)
    with store.transaction() as conn:
        survey_id = conn.execute(
            "INSERT INTO surveys (title, purpose, base_language, target_languages_json, version, "
            "created_by, created_at) VALUES (?, ?, ?, ?, 1, ?, ?)",
            (title, purpose, base, _json(targets), actor.id or None, utcnow())).lastrowid
        audit.record(conn, actor, "survey.create", "survey", survey_id,
                     after={"title": title, "purpose": purpose})
        for q in questions or []:
            _add_question(conn, store, actor, survey_id, 1, **q)
    return get_survey(store, survey_id)


def _add_question(conn, store: Store, actor: User, survey_id: int, version: int, *,
                  kind: str, name: str,
                  text: str, options: dict | None = None, texts: dict[str, str] | None = None,
                  position: int | None = None) -> int:
    text_rule.check_all({"question's name": name, "question's text": text})
    text_rule.check_all({f"{lang} text of the question": t for lang, t in (texts or {}).items()
                         if isinstance(t, str)})
    name = (name or "").strip()
    if not _NAME.match(name):
        raise BadInput(f"{name!r} is not a usable question name",
                       fix="use letters, digits and underscores, starting with a letter")
    text = (text or "").strip()
    if not text:
        raise BadInput(f"question {name!r} has no text", fix="write the question")
    limits.check_chars(f"the text of question {name!r}", text, limits.QUESTION_TEXT_CHARS)
    limits.check_count(f"translations given with question {name!r}", len(texts or {}),
                       limits.LANGUAGES_PER_SURVEY, fix="add the others afterwards")
    for translated in (texts or {}).values():
        limits.check_chars(f"a translation of question {name!r}", str(translated),
                           limits.QUESTION_TEXT_CHARS)
    opts = normalise_options(kind, options)
    held = conn.execute("SELECT count(*) FROM survey_questions WHERE survey_id = ? AND "
                        "survey_version = ?", (survey_id, version)).fetchone()[0]
    limits.check_count("questions in one survey", held + 1, limits.QUESTIONS_PER_SURVEY,
                       fix=_SPLIT_SURVEY)
    if conn.execute("SELECT 1 FROM survey_questions WHERE survey_id = ? AND survey_version = ? "
                    "AND name = ?", (survey_id, version, name)).fetchone():
        raise Conflict(f"the survey already has a question called {name!r}",
                       fix="give each question its own name")
    if position is None:
        position = conn.execute("SELECT coalesce(max(position), 0) + 1 FROM survey_questions "
                                "WHERE survey_id = ? AND survey_version = ?",
                                (survey_id, version)).fetchone()[0]
    survey = conn.execute("SELECT title, base_language FROM surveys WHERE id = ?",
                          (survey_id,)).fetchone()
    # The question's words are a comms message, translated and approved per language
    # through the same workflow as any health message (it joins this transaction).
    message_id = links.question_message(store, actor, survey_title=survey["title"], name=name,
                                        text=text, language=survey["base_language"])
    qid = conn.execute(
        "INSERT INTO survey_questions (survey_id, survey_version, position, name, kind, text, "
        "options_json, message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (survey_id, version, position, name, kind, text, _json(opts), message_id)).lastrowid
    audit.record(conn, actor, "question.create", "question", qid,
                 after={"name": name, "kind": kind, "text": text, "message_id": message_id})
    for lang, translated in (texts or {}).items():
        links.set_translation(store, actor, message_id, _check_language(lang), translated)
    labels.create_messages(store, actor, qid, survey_title=survey["title"], name=name,
                           kind=kind, options=opts, language=survey["base_language"])
    return qid


def _current(conn, survey_id: int):
    row = conn.execute("SELECT * FROM surveys WHERE id = ?", (survey_id,)).fetchone()
    if row is None:
        raise NotFound(f"survey {survey_id} does not exist", fix="see `cohear surveys list`")
    return row


def _version_editable(conn, survey_id: int, version: int) -> None:
    if conn.execute("SELECT 1 FROM survey_sessions WHERE survey_id = ? AND survey_version = ?",
                    (survey_id, version)).fetchone():
        raise Conflict(f"version {version} of survey {survey_id} already has collection sessions",
                       fix="make a new version of the survey and change that one")


def add_question(store: Store, actor: User, survey_id: int, *, kind: str, name: str, text: str,
                 options: dict | None = None, texts: dict[str, str] | None = None) -> dict:
    actor.require("surveys.build")
    with store.transaction() as conn:
        survey = _current(conn, survey_id)
        _version_editable(conn, survey_id, survey["version"])
        qid = _add_question(conn, store, actor, survey_id, survey["version"], kind=kind,
                            name=name,
                            text=text, options=options, texts=texts)
    return get_question(store, qid)


def new_version(store: Store, actor: User, survey_id: int) -> dict:
    """Copy the current questions (and their texts) into the next version."""
    actor.require("surveys.build")
    with store.transaction() as conn:
        survey = _current(conn, survey_id)
        old, new = survey["version"], survey["version"] + 1
        # A survey made before the bound still loads and collects, but does not grow.
        held = conn.execute("SELECT count(*) FROM survey_questions WHERE survey_id = ? AND "
                            "survey_version = ?", (survey_id, old)).fetchone()[0]
        limits.check_count(f"questions in survey {survey_id}", held,
                           limits.QUESTIONS_PER_SURVEY, fix=_SPLIT_SURVEY)
        # The same messages carry the words, so their translations and approvals carry over.
        for q in conn.execute("SELECT * FROM survey_questions WHERE survey_id = ? AND "
                              "survey_version = ? ORDER BY position", (survey_id, old)).fetchall():
            copy = conn.execute(
                "INSERT INTO survey_questions (survey_id, survey_version, position, name, kind, "
                "text, options_json, message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (survey_id, new, q["position"], q["name"], q["kind"], q["text"],
                 q["options_json"], q["message_id"])).lastrowid
            labels.copy_messages(conn, q["id"], copy)
        conn.execute("UPDATE surveys SET version = ? WHERE id = ?", (new, survey_id))
        # A new wording may need new approvals: collection reopens language by language.
        conn.execute("DELETE FROM survey_languages WHERE survey_id = ?", (survey_id,))
        audit.record(conn, actor, "survey.new_version", "survey", survey_id,
                     detail=f"version {old} -> {new}")
    return get_survey(store, survey_id)


def get_survey(store: Store, survey_id: int, version: int | None = None) -> dict:
    row = store.one("SELECT * FROM surveys WHERE id = ?", (survey_id,))
    if row is None:
        raise NotFound(f"survey {survey_id} does not exist", fix="see `cohear surveys list`")
    survey = _survey_dict(row)
    version = version or survey["version"]
    survey["questions"] = [
        _question_with_texts(store, q) for q in store.all(
            "SELECT * FROM survey_questions WHERE survey_id = ? AND survey_version = ? "
            "ORDER BY position", (survey_id, version))]
    survey["open_languages"] = [
        dict(r) for r in store.all("SELECT language, accepted_in_english, opened_at FROM "
                                   "survey_languages WHERE survey_id = ? ORDER BY language",
                                   (survey_id,))]
    return survey


def _question_with_texts(store: Store, row) -> dict:
    q = _question_dict(row)
    q["texts"] = links.question_translations(store, row["message_id"])
    return q


def get_question(store: Store, question_id: int) -> dict:
    """A question with its texts per language and its labels' (comms messages)."""
    row = store.one("SELECT * FROM survey_questions WHERE id = ?", (question_id,))
    if row is None:
        raise NotFound(f"question {question_id} does not exist", fix="check the id")
    return _question_with_texts(store, row) | {"labels": labels.translations(store, question_id)}


def list_surveys(store: Store) -> list[dict]:
    rows = store.all("""SELECT s.*, (SELECT count(*) FROM survey_questions q
        WHERE q.survey_id = s.id AND q.survey_version = s.version) AS questions,
        (SELECT count(*) FROM answers a JOIN survey_sessions ss ON ss.id = a.session_id
         WHERE ss.survey_id = s.id) AS answers FROM surveys s ORDER BY s.id""")
    return [_survey_dict(r) for r in rows]


def open_for_collection(store: Store) -> list[dict]:
    """Surveys open in at least one language whose current version has a consent question:
    id, title, purpose, version and the open languages' tags.

    One query that reads no question: whether a consent question exists is one lookup in
    an index on (survey, version, kind), so a survey of thousands of questions costs this
    list no more than a survey of three."""
    rows = store.all("""SELECT s.id, s.title, s.purpose, s.version,
        (SELECT json_group_array(language) FROM (SELECT l.language FROM survey_languages l
            WHERE l.survey_id = s.id ORDER BY l.language)) AS languages
        FROM surveys s
        WHERE EXISTS (SELECT 1 FROM survey_languages l WHERE l.survey_id = s.id)
          AND EXISTS (SELECT 1 FROM survey_questions q WHERE q.survey_id = s.id
                      AND q.survey_version = s.version AND q.kind = 'consent')
        ORDER BY s.id""")
    return [{"id": r["id"], "title": r["title"], "purpose": r["purpose"],
             "version": r["version"], "languages": json.loads(r["languages"])} for r in rows]
def question_messages(store: Store) -> dict[int, dict]:
    """comms message id -> {survey_id, survey_title, question, position, label} for every
    message a survey owns: each question's words (consent included; `label` None) and
    each of its labels (a choice, a scale point; `label` its key, "choice:yes"), newest
    version of each survey first, so the translations of a survey's words can be listed
    together under their survey."""
    out: dict[int, dict] = {}
    for r in store.all("SELECT q.message_id, q.name, q.position, q.survey_version, s.id, "
                       "s.title FROM survey_questions q JOIN surveys s ON s.id = q.survey_id "
                       "WHERE q.message_id IS NOT NULL ORDER BY s.id, q.survey_version DESC, "
                       "q.position"):
        out.setdefault(r["message_id"], {"survey_id": r["id"], "survey_title": r["title"],
                                         "question": r["name"], "position": r["position"],
                                         "label": None})
    for r in store.all("SELECT m.message_id, m.label, q.name, q.position, s.id, s.title "
                       "FROM question_label_messages m JOIN survey_questions q "
                       "ON q.id = m.question_id JOIN surveys s ON s.id = q.survey_id "
                       "ORDER BY s.id, q.survey_version DESC, q.position, m.rowid"):
        out.setdefault(r["message_id"], {"survey_id": r["id"], "survey_title": r["title"],
                                         "question": r["name"], "position": r["position"],
                                         "label": r["label"]})
    return out


# -- question texts per language -------------------------------------------------------------

def _question_message(store: Store, question_id: int) -> int:
    q = store.one("SELECT message_id FROM survey_questions WHERE id = ?", (question_id,))
    if q is None:
        raise NotFound(f"question {question_id} does not exist", fix="check the id")
    return q["message_id"]


def set_question_text(store: Store, actor: User, question_id: int, language: str,
                      text: str | None, label_texts: dict[str, str] | None = None) -> dict:
    """A translation of a question (its comms message) and of its labels (`label key ->
    text`, keys as in the question's `labels`), to be reviewed and approved."""
    actor.require("surveys.build")
    language = _check_language(language)
    text_rule.check(text, "question's text")
    if text is not None:
        links.set_translation(store, actor, _question_message(store, question_id), language,
                              text)
    if label_texts:
        labels.set_translations(store, actor, question_id, language, label_texts)
    return get_question(store, question_id)


def approve_question_text(store: Store, actor: User, question_id: int, language: str) -> dict:
    """Approve a question's translation through comms' review workflow, with the
    translations of its labels waiting in that language."""
    actor.require("surveys.approve_text")
    language = _check_language(language)
    links.approve_translation(store, actor, _question_message(store, question_id), language)
    labels.approve(store, actor, question_id, language)
    return get_question(store, question_id)


def missing_approvals(store: Store, survey_id: int, language: str) -> list[str]:
    """Names of current questions without an approved text in `language`."""
    survey = get_survey(store, survey_id)
    if language == survey["base_language"]:
        return []
    return [q["name"] for q in survey["questions"]
            if q["texts"].get(language, {}).get("status") != "approved"]


def open_language(store: Store, actor: User, survey_id: int, language: str, *,
                  accept_english: bool = False) -> dict:
    """Open the survey for collection in a language once every question is approved in it
    (or, explicitly, accepting the English text where a translation is missing)."""
    actor.require("surveys.build")
    language = _check_language(language)
    survey = get_survey(store, survey_id)
    if not survey["questions"]:
        raise Conflict(f"survey {survey_id} has no questions", fix="add questions first")
    missing = missing_approvals(store, survey_id, language)
    if missing and not accept_english:
        raise Conflict(f"survey {survey_id} cannot open in {language}: questions "
                       f"{', '.join(missing)} have no approved {language} text",
                       fix="approve those translations, or open it accepting the English text")
    with store.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO survey_languages (survey_id, language, "
                     "accepted_in_english, opened_by, opened_at) VALUES (?, ?, ?, ?, ?)",
                     (survey_id, language, int(bool(missing)), actor.id or None, utcnow()))
        audit.record(conn, actor, "survey.open", "survey", survey_id,
                     detail=language + (" (accepting English for " + ", ".join(missing) + ")"
                                        if missing else ""))
    return get_survey(store, survey_id)


def put_prompt(store: Store, actor: User, question_id: int, language: str, fileobj: IO[bytes],
               media_type: str) -> dict:
    """A recorded audio prompt for a question in a language (kept in the blob store)."""
    actor.require("surveys.build")
    language = _check_language(language)
    if not (media_type or "").startswith("audio/"):
        raise BadInput(f"a prompt must be audio, not {media_type!r}",
                       fix="upload a WAV, MP3, OGG or M4A recording")
    get_question(store, question_id)
    sha, size = store.blobs.put_stream(fileobj, max_bytes=store.settings.max_request_bytes)
    with store.transaction() as conn:
        store.blobs.register(conn, sha, size, media_type)
        conn.execute("INSERT OR REPLACE INTO question_prompts (question_id, language, "
                     "blob_sha256, media_type, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?)",
                     (question_id, language, sha, media_type, actor.id or None, utcnow()))
        audit.record(conn, actor, "question.prompt", "question", question_id,
                     detail=f"{language} prompt {sha[:12]}")
    return {"question_id": question_id, "language": language, "sha256": sha, "size": size}


def get_prompt(store: Store, question_id: int, language: str) -> dict:
    row = store.one("SELECT * FROM question_prompts WHERE question_id = ? AND language = ?",
                    (question_id, language))
    if row is None:
        raise NotFound(f"question {question_id} has no {language} audio prompt",
                       fix="record one, or read the question aloud")
    return dict(row)


# -- respondents, sessions, consent ------------------------------------------------------------

def _new_cohear_id() -> str:
    return "R-" + secrets.token_hex(5).upper()


def create_respondent(conn, actor: User, contact: str | None = None) -> int:
    text_rule.check(contact, "contact detail")
    if contact:
        limits.check_chars("the contact detail", contact.strip(), limits.CONTACT_CHARS)
    rid = conn.execute("INSERT INTO respondents (cohear_id, created_by, created_at) "
                       "VALUES (?, ?, ?)", (_new_cohear_id(), actor.id or None, utcnow())).lastrowid
    if contact:
        conn.execute("INSERT INTO respondent_contacts (respondent_id, contact, added_by, added_at) "
                     "VALUES (?, ?, ?, ?)", (rid, contact.strip(), actor.id or None, utcnow()))
    audit.record(conn, actor, "respondent.create", "respondent", rid)
    return rid


def start_session(store: Store, actor: User, survey_id: int, language: str, *,
                  respondent_id: int | None = None, contact: str | None = None) -> dict:
    """A collector starts a session in a language the survey is open in."""
    actor.require("sessions.run")
    language = _check_language(language)
    with store.transaction() as conn:
        survey = _current(conn, survey_id)
        if not conn.execute("SELECT 1 FROM survey_languages WHERE survey_id = ? AND language = ?",
                            (survey_id, language)).fetchone():
            raise Conflict(f"survey {survey_id} is not open for collection in {language}",
                           fix="a communicator opens it once its questions are approved in "
                               f"{language}", code="survey-not-open")
        if respondent_id is None:
            respondent_id = create_respondent(conn, actor, contact)
        else:
            r = _respondent_row(conn, actor, respondent_id, "sessions.run")
            if r["withdrawn_at"]:
                raise Conflict(f"respondent {respondent_id} withdrew consent",
                               fix="start with a new respondent if they wish to take part again",
                               code="respondent-withdrawn")
        sid = conn.execute(
            "INSERT INTO survey_sessions (survey_id, survey_version, respondent_id, language, "
            "collector_id, started_at) VALUES (?, ?, ?, ?, ?, ?)",
            (survey_id, survey["version"], respondent_id, language, actor.id, utcnow())).lastrowid
        audit.record(conn, actor, "session.start", "session", sid,
                     detail=f"survey {survey_id} v{survey['version']} in {language}")
    return get_session(store, actor, sid)


def _respondent_row(conn, actor: User, respondent_id: int, action: str):
    """The respondent, if `actor` may `action` them: a collector reaches only respondents
    they created, and any other is answered exactly as one that does not exist."""
    row = conn.execute("SELECT * FROM respondents WHERE id = ?", (respondent_id,)).fetchone()
    if row is None or (actor.limited_to_own(action) and row["created_by"] != actor.id):
        raise NotFound(f"respondent {respondent_id} does not exist",
                       fix="check the id" + ("; you reach only respondents you added"
                                             if actor.limited_to_own(action) else ""))
    return row


def _session_row(conn, actor: User, session_id: int, *, writing: bool = False):
    """The session, if `actor` may reach it. Another collector's session is answered as
    one that does not exist, for reads and writes alike, so its existence is not told."""
    row = conn.execute("SELECT * FROM survey_sessions WHERE id = ?", (session_id,)).fetchone()
    action = "sessions.run" if writing else "sessions.read"
    if row is None or (actor.limited_to_own(action) and row["collector_id"] != actor.id):
        raise NotFound(f"session {session_id} does not exist",
                       fix="check the id" + ("; you reach only your own sessions"
                                             if actor.limited_to_own(action) else ""))
    return row


def get_session(store: Store, actor: User, session_id: int) -> dict:
    """One session by its id, with its respondent, consent and answers. Researchers may
    not open sessions by id: the ids are internal and would join pseudonymised data to
    identifiable data (`surveys.views.sessions_view` is what they list)."""
    actor.require("sessions.open")
    row = _session_row(store.conn, actor, session_id)
    item = dict(row)
    item["respondent"] = store.one("SELECT cohear_id FROM respondents WHERE id = ?",
                                   (row["respondent_id"],))["cohear_id"]
    item["consent"] = _active_consent(store.conn, session_id)
    item["answers"] = [dict(r) for r in store.all(
        "SELECT id, question_id, kind, status, safeguarding, version FROM answers "
        "WHERE session_id = ? ORDER BY id", (session_id,))]
    return item


def list_sessions(store: Store, actor: User, survey_id: int | None = None) -> list[dict]:
    actor.require("sessions.read")
    sql = "SELECT s.*, r.cohear_id AS respondent FROM survey_sessions s JOIN respondents r " \
          "ON r.id = s.respondent_id WHERE 1=1"
    params: list = []
    if actor.limited_to_own("sessions.read"):
        sql += " AND s.collector_id = ?"
        params.append(actor.id)
    if survey_id is not None:
        sql += " AND s.survey_id = ?"
        params.append(survey_id)
    return [dict(r) for r in store.all(sql + " ORDER BY s.id", tuple(params))]


def _active_consent(conn, session_id: int) -> dict | None:
    row = conn.execute("SELECT * FROM consents WHERE session_id = ? AND withdrawn_at IS NULL "
                       "ORDER BY id DESC LIMIT 1", (session_id,)).fetchone()
    return dict(row) if row else None


def record_consent(store: Store, actor: User, session_id: int, *, method: str,
                   language: str | None = None, recording: IO[bytes] | None = None,
                   filename: str = "consent", content_type: str | None = None) -> dict:
    """Consent before any answer: which consent text version, in which language, how,
    when and by whom. A verbal consent comes with its recording."""
    actor.require("sessions.run")
    if method not in CONSENT_METHODS:
        raise BadInput(f"{method!r} is not a way of giving consent",
                       fix="use verbal_recording or tick")
    session = _session_row(store.conn, actor, session_id, writing=True)
    _check_not_withdrawn(store.conn, session)
    language = _check_language(language or session["language"])
    consent_q = store.one("SELECT * FROM survey_questions WHERE survey_id = ? AND "
                          "survey_version = ? AND kind = 'consent' ORDER BY position LIMIT 1",
                          (session["survey_id"], session["survey_version"]))
    if consent_q is None:
        raise Conflict(f"survey {session['survey_id']} has no consent question",
                       fix="add a consent question to the survey before collecting answers")
    if method == "verbal_recording" and recording is None:
        raise BadInput("verbal consent needs its recording",
                       fix="upload the recording of the respondent agreeing, or use tick")
    stored = None
    if recording is not None:
        stored = links.store_recording(store, recording, filename=filename,
                                       content_type=content_type, uploaded_by=actor,
                                       language_hint=language, purpose="consent")
    recording_id = stored.id if stored else None
    version = json.loads(consent_q["options_json"]).get("consent_version", 1)
    with _removing_if_refused(store, stored), store.transaction() as conn:
        # Checked again inside the write lock: while the recording arrived, the session
        # may have been discarded or its respondent may have withdrawn.
        session = _session_still_there(conn, session_id)
        _check_not_withdrawn(conn, session)
        _check_recording_still_there(conn, recording_id)
        cid = conn.execute(
            "INSERT INTO consents (session_id, respondent_id, question_id, consent_version, "
            "language, method, recording_id, given_at, recorded_by) VALUES (?,?,?,?,?,?,?,?,?)",
            (session_id, session["respondent_id"], consent_q["id"], version, language, method,
             recording_id, utcnow(), actor.id)).lastrowid
        audit.record(conn, actor, "consent.record", "respondent", session["respondent_id"],
                     detail=f"consent text v{version} in {language} by {method} (session "
                            f"{session_id})")
    row = store.one("SELECT * FROM consents WHERE id = ?", (cid,))
    if row is None:  # withdrawn, or its session discarded, the moment after it was saved
        raise Conflict(f"the consent for session {session_id} was removed with its "
                       "respondent as it was being saved", fix="start a new session if the "
                       "respondent wishes to take part", code="respondent-withdrawn")
    return dict(row)


# -- answers -------------------------------------------------------------------------------------

def strip_postcode(value: str) -> tuple[str, bool]:
    """The postcode district of a UK postcode (never the full postcode); (district, stripped)."""
    text = re.sub(r"\s+", " ", (value or "").strip().upper())
    full = _FULL_POSTCODE.match(text)
    if full:
        return full.group(1), True
    if _DISTRICT.match(text):
        return text, False
    raise BadInput(f"{value!r} is not a UK postcode district",
                   fix="give the first half of the postcode only, e.g. B11")


def _check_typed_length(text: str) -> None:
    """Refuse (413) typed words longer than a person types (`TYPED_ANSWER_CHARS`), on
    every route: the field page, the API, the CLI and a reviewer's correction of a typed
    answer. Only a transcript is long (`ANSWER_TEXT_CHARS`); a typed answer's redaction
    suggestions and views stay small."""
    if len(text) > limits.TYPED_ANSWER_CHARS:
        raise TooLarge(f"the typed answer is {len(text):,} characters long; a typed answer "
                       f"holds at most {limits.TYPED_ANSWER_CHARS:,}",
                       fix=f"keep it under {limits.TYPED_ANSWER_CHARS:,} characters, or record "
                           "it as a voice answer", code="answer-too-long")


def _check_answer_value(question, text: str | None, choices: list[str] | None,
                        audio: bool) -> tuple[str, str | None, list[str] | None, dict]:
    """(kind, text, choices, notes) for an answer to this question, or BadInput."""
    kind, opts, name = question["kind"], json.loads(question["options_json"]), question["name"]
    notes: dict = {}
    text_rule.check(text, "answer")
    text_rule.check_each(choices, "chosen option")
    _check_typed_length(text or "")
    limits.check_count("choices in one answer", len(choices or []), limits.CHOICES_PER_QUESTION,
                       fix="choose from the question's choices")
    if kind == "consent":
        raise BadInput(f"question {name!r} is the consent question",
                       fix="record consent with the consent step, not as an answer")
    if kind == "open":
        if audio:
            if opts.get("answer") == "text":
                raise BadInput(f"question {name!r} takes a written answer",
                               fix="type the answer")
            return "voice", None, None, notes
        if not (text or "").strip():
            raise BadInput(f"question {name!r} needs an answer", fix="type it or record it")
        if opts.get("answer") == "voice":
            raise BadInput(f"question {name!r} takes a voice answer", fix="record the answer")
        return "text", text.strip(), None, notes
    if audio:
        raise BadInput(f"question {name!r} is a {kind.replace('_', ' ')} question",
                       fix="send the chosen option, not a recording")
    if kind in values.VALUE_KINDS:
        # Stored like a scale point (the canonical value is the answer's one "choice") and
        # as its typed words, so exports, REFI-QDA sources and withdrawal treat it as text.
        raw = choices[0] if choices else text
        if choices and len(choices) > 1:
            raise Unprocessable(f"question {name!r} takes one value", fix="send one value")
        if raw is None or not str(raw).strip():
            raise Unprocessable(f"question {name!r} needs an answer",
                                fix=f"answer with {values.FORMATS[kind]}")
        value = values.check_answer(kind, opts, raw, name)
        return "choice", value, [value], notes
    if kind == "scale":
        raw = choices[0] if choices else text
        try:
            point = int(str(raw).strip())
        except (TypeError, ValueError):
            raise BadInput(f"question {name!r} wants a number on its scale, not {raw!r}",
                           fix=f"choose {opts['min']} to {opts['max']}") from None
        if not opts["min"] <= point <= opts["max"]:
            raise BadInput(f"{point} is outside the scale of question {name!r}",
                           fix=f"choose {opts['min']} to {opts['max']}")
        return "choice", None, [str(point)], notes
    if kind == "demographic" and opts["field"] == "postcode_district":
        district, stripped = strip_postcode(choices[0] if choices else text or "")
        if stripped:
            notes["postcode"] = "the full postcode was cut to its district; only that is kept"
        return "choice", None, [district], notes
    allowed = [c["value"] for c in opts["choices"]]
    picked = [str(c) for c in (choices or ([text] if text else []))]
    if not picked:
        raise BadInput(f"question {name!r} needs a choice", fix="choose one of: " +
                       ", ".join(allowed))
    unknown = [c for c in picked if c not in allowed]
    if unknown:
        raise BadInput(f"{unknown} are not choices of question {name!r}",
                       fix="choose from: " + ", ".join(allowed))
    if kind != "multiple_choice" and len(picked) != 1:
        raise BadInput(f"question {name!r} takes one choice", fix="choose only one")
    return "choice", None, list(dict.fromkeys(picked)), notes


def submit_answer(store: Store, actor: User, session_id: int, question_id: int, *,
                  text: str | None = None, choices: list[str] | None = None,
                  audio: IO[bytes] | None = None, filename: str = "answer",
                  content_type: str | None = None, jobs=None) -> dict:
    """Accept an answer once consent is recorded; a voice answer queues transcription.

    A session answers each question once (UNIQUE in the database). While the session is
    open, another answer to a question it has answered becomes the next version of that
    answer: the answer keeps its id, `version` counts up, and the earlier version stays
    (`answer_versions`, its words in `answer_texts` and the audit log). The same answer
    again (the same words, choices or recording) is not a new version: it comes back
    with `duplicate: True`. Once the session is finished, answers are refused (409).
    """
    actor.require("sessions.run")
    conn = store.conn
    session = _session_row(conn, actor, session_id, writing=True)
    question = conn.execute("SELECT * FROM survey_questions WHERE id = ?",
                            (question_id,)).fetchone()
    if question is None:
        raise NotFound(f"question {question_id} does not exist", fix="check the id")
    if question["survey_id"] != session["survey_id"]:
        raise BadInput(f"question {question_id} belongs to another survey",
                       fix=f"answer the questions of survey {session['survey_id']}")
    if question["survey_version"] != session["survey_version"]:
        raise BadInput(f"question {question_id} is from version {question['survey_version']} of "
                       f"the survey, but this session uses version {session['survey_version']}",
                       fix="answer the questions of the session's own version")
    _check_answerable(conn, session)
    try:
        kind, clean_text, clean_choices, notes = _check_answer_value(question, text, choices,
                                                                     audio is not None)
    except BadInput as exc:
        exc.code = "answer-invalid"
        raise
    language = session["language"]
    stored = None
    if kind == "voice":
        stored = links.store_recording(store, audio, filename=filename,
                                       content_type=content_type, uploaded_by=actor,
                                       language_hint=language, purpose="answer")
    recording_id = stored.id if stored else None
    hits = keyword_hits(clean_text or "", language)
    choices_json = _json(clean_choices) if clean_choices is not None else None
    with _removing_if_refused(store, stored), store.transaction() as conn:
        # Checked again inside the write lock: while a recording arrived (minutes, on a
        # phone's connection) the session may have finished or been discarded, its
        # respondent may have withdrawn, or `db check --repair` taken the recording.
        _check_answerable(conn, _session_still_there(conn, session_id))
        _check_recording_still_there(conn, recording_id)
        before = conn.execute("SELECT * FROM answers WHERE session_id = ? AND question_id = ?",
                              (session_id, question_id)).fetchone()
        before_text = (latest_texts(conn, before["id"]).get("original") or {}).get("text") \
            if before else None
        if before is not None and (before["kind"], before["choices_json"],
                                   before["recording_id"]) == (kind, choices_json,
                                                               recording_id) \
                and (kind != "text" or before_text == clean_text):
            duplicate_id, version = before["id"], before["version"]
        else:
            duplicate_id = None
            # The database keeps one answer per question and session: a second one is
            # the next version of the first, never a second row.
            row = conn.execute(
                "INSERT INTO answers (session_id, question_id, respondent_id, language, "
                "survey_version, kind, choices_json, recording_id, created_by, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, question_id) "
                "DO UPDATE SET version = answers.version + 1, kind = excluded.kind, "
                "choices_json = excluded.choices_json, recording_id = excluded.recording_id, "
                "transcription_job_id = NULL, status = 'new', verified_by = NULL, "
                "verified_at = NULL RETURNING id, version",
                (session_id, question_id, session["respondent_id"], language,
                 session["survey_version"], kind, choices_json, recording_id, actor.id,
                 utcnow())).fetchone()
            aid, version = row["id"], row["version"]
            tid = None
            if clean_text is not None:
                # A number, date or time was checked against its format: it holds no name
                # or phone number to suggest redacting (a date reads like a phone number).
                tid = _insert_text(conn, store, aid, "original", language, clean_text, "typed",
                                   suggest=question["kind"] not in values.VALUE_KINDS)
            conn.execute("INSERT INTO answer_versions (answer_id, version, kind, choices_json, "
                         "recording_id, answer_text_id, created_by, created_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (aid, version, kind, choices_json, recording_id, tid, actor.id,
                          utcnow()))
            if hits:
                _flag(conn, aid, "keywords: " + ", ".join(hits), "keywords")
            after = {"text": clean_text, "choices": clean_choices, "recording_id": recording_id}
            if version == 1:
                audit.record(conn, actor, "answer.create", "answer", aid, after=after)
            else:
                audit.record(conn, actor, "answer.version", "answer", aid,
                             before={"version": version - 1, "text": before_text,
                                     "choices": json.loads(before["choices_json"])
                                     if before["choices_json"] else None,
                                     "recording_id": before["recording_id"]},
                             after=after | {"version": version},
                             detail=f"version {version}")
    # `version` is the one this request made (or matched): another may follow at once.
    if duplicate_id is not None:
        out = get_answer(store, actor, duplicate_id)
        out["notes"], out["duplicate"], out["version"] = notes, True, version
        return out
    try:
        if clean_text is not None and language != "en":
            from surveys import english  # typed words get an English rendering from the engine
            english.queue_english(store, [aid], actor)
        if recording_id is not None:
            job_id = links.queue_transcription(store, recording_id, actor, language)
            if job_id is not None:
                with store.transaction() as conn:
                    conn.execute("UPDATE answers SET transcription_job_id = ? WHERE id = ? "
                                 "AND recording_id = ?", (job_id, aid, recording_id))
        out = get_answer(store, actor, aid)
    except NotFound:
        # The answer was saved, and the respondent withdrew (or a reviewer did for them)
        # before this request finished: the withdrawal removed it with the rest.
        raise Conflict(f"the respondent of session {session_id} withdrew consent while "
                       "this answer was being saved, and it was removed with the rest",
                       fix="nothing more can be added for this respondent",
                       code="respondent-withdrawn") from None
    out["notes"], out["duplicate"], out["version"] = notes, False, version
    return out


def _check_open(session) -> None:
    if session["ended_at"]:
        raise Conflict(f"session {session['id']} is finished, so its answers are closed",
                       fix="a reviewer can correct an answer; a respondent with more to say "
                           "starts a new session", code="session-finished")


def _check_not_withdrawn(conn, session) -> None:
    if conn.execute("SELECT withdrawn_at FROM respondents WHERE id = ?",
                    (session["respondent_id"],)).fetchone()["withdrawn_at"]:
        raise Conflict(f"the respondent of session {session['id']} withdrew consent",
                       fix="start a new session with a new respondent if they wish to take "
                           "part again", code="respondent-withdrawn")


def _check_answerable(conn, session) -> None:
    """An answer may be stored: the session is open, its respondent has not withdrawn,
    and their consent is recorded (and not withdrawn)."""
    _check_open(session)
    _check_not_withdrawn(conn, session)
    if _active_consent(conn, session["id"]) is None:
        raise Conflict(f"no consent is recorded for session {session['id']}",
                       fix="record the respondent's consent before any answer",
                       code="consent-missing")


def _session_still_there(conn, session_id: int):
    """The session as it is now, inside the write lock: its leader may have discarded
    it (an empty session) while an answer or a consent recording was arriving."""
    row = conn.execute("SELECT * FROM survey_sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        raise NotFound(f"session {session_id} does not exist: it was discarded while this "
                       "was being sent", fix="start a new session if the respondent wishes "
                                             "to take part")
    return row


def _check_recording_still_there(conn, recording_id: int | None) -> None:
    if recording_id is not None and conn.execute(
            "SELECT 1 FROM recordings WHERE id = ?", (recording_id,)).fetchone() is None:
        raise Conflict(f"recording {recording_id} was removed while it was being saved",
                       fix="send the recording again", code="recording-removed")


@contextlib.contextmanager
def _removing_if_refused(store: Store, stored: links.StoredRecording | None) -> Iterator[None]:
    """Around the write that stores an answer or consent with the recording this request
    stored: when the write is refused (or fails), the recording and its audio go too, so
    nothing is left that belongs to no answer and no respondent."""
    try:
        yield
    except Exception:
        if stored is not None:
            from surveys import recordings
            recordings.discard_unused(store, stored, "the answer or consent it was sent "
                                                     "with was refused")
        raise




def _insert_text(conn, store: Store, answer_id: int, rendering: str, language: str, text: str,
                 source: str, *, suggest: bool = True, engine: str | None = None) -> int:
    """A new version of an answer's words, with redaction suggestions for it (unless
    `suggest` is False). An English rendering records the version of the original words
    it renders (`of_version`)."""
    version = conn.execute("SELECT coalesce(max(version), 0) + 1 FROM answer_texts WHERE "
                           "answer_id = ? AND rendering = ?", (answer_id, rendering)).fetchone()[0]
    of_version = None
    if rendering == "english":
        of_version = conn.execute("SELECT max(version) FROM answer_texts WHERE answer_id = ? "
                                  "AND rendering = 'original'", (answer_id,)).fetchone()[0]
    tid = conn.execute("INSERT INTO answer_texts (answer_id, rendering, version, language, text, "
                       "source, created_at, of_version, engine) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (answer_id, rendering, version, language, text, source,
                        utcnow(), of_version, engine)).lastrowid
    if suggest:
        redaction.suggest(conn, store, tid, text)
    return tid


def visible_answer_row(conn, actor: User, answer_id: int):
    row = conn.execute("SELECT a.*, s.collector_id FROM answers a JOIN survey_sessions s "
                       "ON s.id = a.session_id WHERE a.id = ?", (answer_id,)).fetchone()
    if row is None or (actor.limited_to_own("answers.read") and row["collector_id"] != actor.id):
        raise NotFound(f"answer {answer_id} does not exist",
                       fix="check the id" + ("; you see only your own sessions' answers"
                                             if actor.limited_to_own("answers.read") else ""))
    return row


def latest_texts(conn, answer_id: int) -> dict[str, dict]:
    """rendering -> the newest answer_texts row of that rendering."""
    out = {}
    for r in conn.execute("SELECT * FROM answer_texts WHERE answer_id = ? ORDER BY version",
                          (answer_id,)):
        out[r["rendering"]] = dict(r)
    return out


def get_answer(store: Store, actor: User, answer_id: int) -> dict:
    actor.require("answers.read")
    row = visible_answer_row(store.conn, actor, answer_id)
    item = dict(row)
    item["choices"] = json.loads(item.pop("choices_json")) if row["choices_json"] else None
    item["texts"] = latest_texts(store.conn, answer_id)
    return item


def add_text_version(store: Store, actor: User, answer_id: int, text: str, *,
                     rendering: str = "original", source: str = "edit") -> dict:
    """A new version of an answer's words (a corrected transcript, an English rendering)."""
    actor.require("answers.review")
    if rendering not in ("original", "english"):
        raise BadInput(f"{rendering!r} is not a rendering", fix="use original or english")
    text_rule.check(text, "answer's words")
    text = (text or "").strip()
    if not text:
        raise BadInput("the text is empty", fix="write the answer's words")
    limits.check_chars("the text", text, limits.ANSWER_TEXT_CHARS)
    with store.transaction() as conn:
        row = visible_answer_row(conn, actor, answer_id)
        kind = conn.execute("SELECT kind FROM survey_questions WHERE id = ?",
                            (row["question_id"],)).fetchone()["kind"]
        if rendering == "original" and kind in values.VALUE_KINDS:
            raise Conflict(f"answer {answer_id} is a {kind} value, checked when it was given",
                           fix="a value is not corrected as words; if it is wrong, note it in "
                               "a memo")
        if rendering == "original" and row["kind"] == "text":
            _check_typed_length(text)       # a typed answer corrected is still typed
        before = latest_texts(conn, answer_id).get(rendering)
        language = "en" if rendering == "english" else row["language"]
        tid = _insert_text(conn, store, answer_id, rendering, language, text, source)
        if rendering == "original" and row["status"] == "new":
            conn.execute("UPDATE answers SET status = 'transcribed' WHERE id = ?", (answer_id,))
        hits = keyword_hits(text, language)
        if hits and not row["safeguarding"]:
            _flag(conn, answer_id, "keywords: " + ", ".join(hits), "keywords")
        audit.record(conn, actor, "answer.text", "answer", answer_id,
                     before={"rendering": rendering, "text": before["text"]} if before else None,
                     after={"rendering": rendering, "text": text})
        if rendering == "english":
            # A reviewer's English fulfils the open request for a human translation.
            conn.execute("UPDATE translation_requests SET status = 'done', done_by = ?, "
                         "done_at = ?, answer_text_id = ? WHERE answer_id = ? AND "
                         "status = 'open'", (actor.id or None, utcnow(), tid, answer_id))
    if rendering == "original" and row["kind"] == "text":
        from surveys import english  # the English of the old words is now out of date
        english.queue_english(store, [answer_id], actor)
    return dict(store.one("SELECT * FROM answer_texts WHERE id = ?", (tid,)))


def sync_transcript(store: Store, answer_id: int) -> bool:
    """Copy a voice answer's newest transcript (and its English rendering) from speech.
    Speech's English is copied only when it renders the newest words, and only over an
    English that is missing or renders older words (never over a reviewer's English of
    the same words). Returns True when a new version was stored."""
    row = store.one("SELECT * FROM answers WHERE id = ?", (answer_id,))
    if row is None or row["recording_id"] is None:
        return False
    found = links.latest_transcript(store, row["recording_id"])
    if not found or not found["text"]:
        return False
    changed = False
    with store.transaction() as conn:
        current = latest_texts(conn, answer_id)
        if "original" not in current or current["original"]["text"] != found["text"]:
            _insert_text(conn, store, answer_id, "original", row["language"], found["text"],
                         "transcript")
            changed = True
        english = None if found.get("english_stale") else found.get("english")
        words = latest_texts(conn, answer_id)
        old = words.get("english")
        if english and (old is None or old["of_version"] != words["original"]["version"]):
            _insert_text(conn, store, answer_id, "english", "en", english, "translation",
                         engine=found.get("english_engine"))
            changed = True
        for text, language in ((found["text"], row["language"]), (english, "en")):
            hits = keyword_hits(text or "", language) if changed else []
            if hits:
                _flag(conn, answer_id, "keywords: " + ", ".join(hits), "keywords")
        if changed and row["status"] == "new":
            conn.execute("UPDATE answers SET status = 'transcribed' WHERE id = ?", (answer_id,))
        if changed:
            audit.record(conn, None, "answer.transcript", "answer", answer_id,
                         after={"text": found["text"], "english": english})
    return changed


def sync_pending_transcripts(store: Store, survey_id: int | None = None) -> int:
    """Pick up transcripts finished since the last look, for voice answers still `new`.
    Called before review queues and exports are read; returns how many were updated."""
    # Only answers whose recording has a transcript to pick up: the queue reads this on
    # every page, and answers still waiting for transcription must not cost each read.
    # And voice answers whose English renders older words, for a rendering made since.
    sql = ("SELECT a.id FROM answers a JOIN survey_sessions s ON s.id = a.session_id "
           "WHERE a.kind = 'voice' AND a.recording_id IS NOT NULL "
           "AND EXISTS (SELECT 1 FROM transcripts t WHERE t.recording_id = a.recording_id) "
           "AND (a.status = 'new' OR (SELECT e.of_version FROM answer_texts e WHERE "
           "e.answer_id = a.id AND e.rendering = 'english' ORDER BY e.version DESC LIMIT 1) "
           "IS NOT (SELECT max(o.version) FROM answer_texts o WHERE o.answer_id = a.id AND "
           "o.rendering = 'original'))")
    params: tuple = ()
    if survey_id is not None:
        sql += " AND s.survey_id = ?"
        params = (survey_id,)
    return sum(sync_transcript(store, r[0]) for r in store.all(sql, params))


def verify_answer(store: Store, actor: User, answer_id: int) -> dict:
    actor.require("answers.review")
    with store.transaction() as conn:
        row = visible_answer_row(conn, actor, answer_id)
        if row["kind"] == "voice" and row["status"] == "new":
            raise Conflict(f"answer {answer_id} has no transcript yet",
                           fix="wait for the transcription, or type the transcript first")
        conn.execute("UPDATE answers SET status = 'verified', verified_by = ?, verified_at = ? "
                     "WHERE id = ?", (actor.id, utcnow(), answer_id))
        audit.record(conn, actor, "answer.verify", "answer", answer_id)
    return get_answer(store, actor, answer_id)


# -- safeguarding --------------------------------------------------------------------------------

def _flag(conn, answer_id: int, reason: str, raised_by: str) -> None:
    conn.execute("UPDATE answers SET safeguarding = 1, safeguarding_reason = ?, "
                 "safeguarding_raised_by = ?, safeguarding_handled_by = NULL, "
                 "safeguarding_handled_at = NULL WHERE id = ? AND safeguarding = 0",
                 (reason, raised_by, answer_id))


def raise_safeguarding(store: Store, actor: User, answer_id: int, reason: str) -> dict:
    actor.require("safeguarding.raise")
    text_rule.check(reason, "safeguarding reason")
    reason = (reason or "").strip()
    if not text_rule.letters_and_digits(reason):
        raise BadInput("say why this answer is a safeguarding concern", fix="add a reason")
    limits.check_chars("the reason", reason, limits.NOTE_CHARS)
    with store.transaction() as conn:
        visible_answer_row(conn, actor, answer_id)
        conn.execute("UPDATE answers SET safeguarding = 1, safeguarding_reason = ?, "
                     "safeguarding_raised_by = ?, safeguarding_handled_by = NULL, "
                     "safeguarding_handled_at = NULL WHERE id = ?",
                     (reason, actor.name, answer_id))
        audit.record(conn, actor, "safeguarding.raise", "answer", answer_id,
                     after={"reason": reason})
    return get_answer(store, actor, answer_id)


# Closing a concern is a record of what was done: "ok", an empty note, or one of dots,
# spaces or invisible characters says nothing a safeguarding lead could follow up, so
# a note with fewer letters and digits than this (a few words' worth, in any script)
# is refused. Characters are not counted: ".........." or twelve zero-width spaces
# are ten characters and no words.
MIN_HANDLING_NOTE_LETTERS = 10
MAX_HANDLING_NOTE_CHARS = limits.NOTE_CHARS


def handle_safeguarding(store: Store, actor: User, answer_id: int, note: str) -> dict:
    """Record that a concern was handled: `note` says what was done and who was told
    (at least MIN_HANDLING_NOTE_LETTERS letters or digits). Audit-logged with the
    earlier note."""
    actor.require("safeguarding.handle")
    text_rule.check(note, "safeguarding note")
    note = (note or "").strip()
    letters = text_rule.letters_and_digits(note)
    if letters < MIN_HANDLING_NOTE_LETTERS:
        # The note is not quoted: even a short one may name the respondent.
        raise Unprocessable(
            "handling a safeguarding concern needs a note of the action taken and who was told"
            + (f" (the note has {letters} letters or digits; at least "
               f"{MIN_HANDLING_NOTE_LETTERS} are needed)" if note else ""),
            fix="say what was done and who was told, e.g. 'rang the practice safeguarding "
                "lead, who will call the respondent today'")
    if len(note) > MAX_HANDLING_NOTE_CHARS:
        raise Unprocessable(f"the note is {len(note):,} characters long; the limit is "
                            f"{MAX_HANDLING_NOTE_CHARS:,}",
                            fix="keep the note to what was done and who was told")
    with store.transaction() as conn:
        row = visible_answer_row(conn, actor, answer_id)
        if not row["safeguarding"]:
            raise Conflict(f"answer {answer_id} has no safeguarding flag", fix="nothing to handle")
        conn.execute("UPDATE answers SET safeguarding_handled_by = ?, safeguarding_handled_at = ?, "
                     "safeguarding_note = ? WHERE id = ?",
                     (actor.id, utcnow(), note, answer_id))
        audit.record(conn, actor, "safeguarding.handle", "answer", answer_id,
                     before={"note": row["safeguarding_note"]} if row["safeguarding_note"]
                     else None, after={"note": note})
    return get_answer(store, actor, answer_id)


def review_queue(store: Store, actor: User, *, survey_id: int | None = None,
                 status: str | None = None, limit: int = 200) -> list[dict]:
    """Answers to review: unhandled safeguarding concerns first, then oldest first (a
    handled concern takes its place among the rest, so the order never tells a
    pseudonymised reader that a concern was raised and closed)."""
    actor.require("answers.read")
    sync_pending_transcripts(store, survey_id)
    sql = ("SELECT a.id, a.session_id, a.question_id, a.language, a.kind, a.status, "
           "a.safeguarding, a.safeguarding_reason, a.safeguarding_handled_by, "
           "a.safeguarding_handled_at, s.survey_id "
           "FROM answers a JOIN survey_sessions s ON s.id = a.session_id WHERE 1=1")
    params: list = []
    if actor.limited_to_own("answers.read"):
        sql += " AND s.collector_id = ?"
        params.append(actor.id)
    if survey_id is not None:
        sql += " AND s.survey_id = ?"
        params.append(survey_id)
    if status:
        sql += " AND a.status = ?"
        params.append(status)
    sql += (" ORDER BY (a.safeguarding = 1 AND a.safeguarding_handled_at IS NULL) DESC, "
            "a.id LIMIT ?")
    params.append(limit)
    return [dict(r) for r in store.all(sql, tuple(params))]


def add_contact(store: Store, actor: User, respondent_id: int, contact: str) -> None:
    """Keep a way to reach the respondent (separate table; never exported)."""
    actor.require("sessions.run")
    text_rule.check(contact, "contact detail")
    contact = (contact or "").strip()
    if not contact:
        raise BadInput("the contact detail is empty", fix="give a phone number or address")
    limits.check_chars("the contact detail", contact, limits.CONTACT_CHARS)
    with store.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO respondent_contacts (respondent_id, contact, "
                     "added_by, added_at) VALUES (?, ?, ?, ?)",
                     (respondent_id, contact, actor.id or None, utcnow()))
        audit.record(conn, actor, "respondent.contact", "respondent", respondent_id)


# The end of a session lives in its own module; the API and CLI reach it from here.
from surveys.sessions import discard_session, finish_session  # noqa: E402, F401
