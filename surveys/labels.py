"""A question's labels (the words at a scale's points, each choice's label) as comms
messages linked to the question, so they are translated, reviewed and approved per
language through the same workflow as the question's own text, and served in a
language once approved there.

Labels do not hold a language back from opening (the question texts decide that): a
label without an approved translation is shown in the survey's own language, marked
as such, exactly as an untranslated question is when English is accepted.
"""

from __future__ import annotations

import json

from cohear.auth import User
from cohear.errors import BadInput, NotFound
from cohear.store import Store
from surveys import links


def label_words(kind: str, options: dict) -> dict[str, str]:
    """label key -> its words in the survey's own language, in the order shown."""
    if kind == "scale":
        labels = options.get("labels") or {}
        return {f"scale:{point}": labels[str(point)]
                for point in range(options["min"], options["max"] + 1) if str(point) in labels}
    return {f"choice:{c['value']}": c["label"] for c in options.get("choices") or []}


def _inline_translations(kind: str, options: dict) -> dict[str, dict[str, str]]:
    """label key -> language -> text given with the question (an XLSForm's label::ur)."""
    if kind == "scale":
        return {}
    return {f"choice:{c['value']}": c["labels"] for c in options.get("choices") or []
            if c.get("labels")}


def create_messages(store: Store, actor: User, question_id: int, *, survey_title: str,
                    name: str, kind: str, options: dict, language: str) -> int:
    """A message per label of a new question, seeded with the translations given with
    it (to be reviewed). Runs inside the caller's transaction. Returns how many."""
    made = 0
    inline = _inline_translations(kind, options)
    for key, words in label_words(kind, options).items():
        message_id = links.label_message(store, actor, survey_title=survey_title,
                                         question=name, label=key, text=words,
                                         language=language)
        store.conn.execute("INSERT INTO question_label_messages (question_id, label, "
                           "message_id) VALUES (?, ?, ?)", (question_id, key, message_id))
        for lang, text in inline.get(key, {}).items():
            if lang != language and (text or "").strip():
                links.set_translation(store, actor, message_id, lang, text)
        made += 1
    return made


def copy_messages(conn, old_question_id: int, new_question_id: int) -> None:
    """A new survey version's copy of a question keeps its label messages."""
    conn.execute("INSERT INTO question_label_messages (question_id, label, message_id) "
                 "SELECT ?, label, message_id FROM question_label_messages WHERE "
                 "question_id = ?", (new_question_id, old_question_id))


def _messages(store: Store, question_id: int) -> dict[str, int]:
    return {r["label"]: r["message_id"] for r in store.all(
        "SELECT label, message_id FROM question_label_messages WHERE question_id = ?",
        (question_id,))}


def translations(store: Store, question_id: int) -> dict[str, dict]:
    """label key -> {"message_id", "texts": language -> {"text", "status"}}."""
    return {key: {"message_id": mid, "texts": links.question_translations(store, mid)}
            for key, mid in _messages(store, question_id).items()}


def labels_in(store: Store, question_id: int, language: str) -> dict[str, str]:
    """label key -> its approved translation in `language` (labels without one are absent)."""
    out = {}
    for key, mid in _messages(store, question_id).items():
        found = links.question_translations(store, mid).get(language)
        if found and found["status"] == "approved":
            out[key] = found["text"]
    return out


def _question(store: Store, question_id: int):
    row = store.one("SELECT * FROM survey_questions WHERE id = ?", (question_id,))
    if row is None:
        raise NotFound(f"question {question_id} does not exist", fix="check the id")
    return row


def set_translations(store: Store, actor: User, question_id: int, language: str,
                     texts: dict[str, str]) -> None:
    """Translations of some of a question's labels, each to be reviewed and approved."""
    row = _question(store, question_id)
    known = _messages(store, question_id)
    if not known and texts:
        # A question made before labels were messages gets them now.
        survey = store.one("SELECT title, base_language FROM surveys WHERE id = ?",
                           (row["survey_id"],))
        with store.transaction():
            create_messages(store, actor, question_id, survey_title=survey["title"],
                            name=row["name"], kind=row["kind"],
                            options=json.loads(row["options_json"]),
                            language=survey["base_language"])
        known = _messages(store, question_id)
    unknown = sorted(set(texts) - set(known))
    if unknown:
        raise BadInput(f"question {row['name']!r} has no labels {', '.join(unknown)}",
                       fix="use the keys it has: " + (", ".join(known) or "none"))
    for key, text in texts.items():
        links.set_translation(store, actor, known[key], language, text)


def approve(store: Store, actor: User, question_id: int, language: str) -> list[str]:
    """Approve every label translation of the question waiting in `language` (approved
    with the question's text). Returns the keys approved now."""
    done = []
    for key, item in translations(store, question_id).items():
        found = item["texts"].get(language)
        # Words a person wrote or checked; a machine's label is reviewed on its own.
        if found and found["status"] in ("needs_review", "received"):
            links.approve_translation(store, actor, item["message_id"], language)
            done.append(key)
    return done
