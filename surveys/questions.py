"""Changing a survey's questions after they were added: new words, options or kind for a
question, and its place in the survey. Only a version nobody has collected answers with
can change (answers must keep meaning what they were asked); otherwise make a new version.

A question's words and labels are comms messages: new words are a new version of the
message, so every translation of the old words becomes stale and is translated, reviewed
and approved again, exactly as for a health message. Re-exported by `surveys.service`.
"""

from __future__ import annotations

import json

from cohear import audit, limits
from cohear import text as text_rule
from cohear.auth import User
from cohear.errors import BadInput, Conflict, NotFound
from cohear.store import Store
from surveys import labels, links


def _question(conn, question_id: int):
    row = conn.execute("SELECT * FROM survey_questions WHERE id = ?", (question_id,)).fetchone()
    if row is None:
        raise NotFound(f"question {question_id} does not exist", fix="check the id")
    return row


def _editable(conn, row) -> None:
    """The question belongs to its survey's current version, and nobody has answered it."""
    survey = conn.execute("SELECT version FROM surveys WHERE id = ?",
                          (row["survey_id"],)).fetchone()
    if row["survey_version"] != survey["version"]:
        raise Conflict(f"question {row['id']} belongs to version {row['survey_version']} of "
                       f"survey {row['survey_id']}, which is now at version {survey['version']}",
                       fix="change the question in the current version")
    if conn.execute("SELECT 1 FROM survey_sessions WHERE survey_id = ? AND survey_version = ?",
                    (row["survey_id"], row["survey_version"])).fetchone():
        raise Conflict(f"version {row['survey_version']} of survey {row['survey_id']} already "
                       "has collection sessions, so its questions cannot change",
                       fix="make a new version of the survey and change that one")


def edit_question(store: Store, actor: User, question_id: int, *, text: str | None = None,
                  kind: str | None = None, options: dict | None = None) -> dict:
    """New words, kind or options for a question of a version nobody has answered. New
    words make a new version of its message (translations become stale); a label whose
    words change does the same, a new label gets its message, a dropped one its link."""
    from surveys import service

    actor.require("surveys.build")
    text_rule.check(text, "question's text")
    with store.transaction() as conn:
        row = _question(conn, question_id)
        _editable(conn, row)
        new_kind = kind or row["kind"]
        old_options = json.loads(row["options_json"])
        new_options = service.normalise_options(
            new_kind, old_options if options is None and kind is None else (options or {}))
        changes: dict = {}
        if text is not None:
            words = text.strip()
            if not words:
                raise BadInput(f"question {row['name']!r} needs words", fix="write the question")
            limits.check_chars(f"the text of question {row['name']!r}", words,
                               limits.QUESTION_TEXT_CHARS)
            if words != row["text"]:
                changes["text"] = words
                survey = conn.execute("SELECT title, base_language FROM surveys WHERE id = ?",
                                      (row["survey_id"],)).fetchone()
                if _shared(conn, "SELECT count(*) FROM survey_questions WHERE message_id = ?",
                           row["message_id"]):
                    # An earlier version asks the same message: it keeps its words, and this
                    # question gets a message of its own.
                    changes["message_id"] = links.question_message(
                        store, actor, survey_title=survey["title"], name=row["name"],
                        text=words, language=survey["base_language"])
                else:
                    links.edit_message_source(store, actor, row["message_id"], words)
        if new_kind != row["kind"]:
            changes["kind"] = new_kind
        if new_options != old_options:
            changes["options_json"] = json.dumps(new_options, ensure_ascii=False,
                                                 sort_keys=True)
        if not changes:
            return service.get_question(store, question_id)
        sets = ", ".join(f"{k} = ?" for k in changes)
        conn.execute(f"UPDATE survey_questions SET {sets} WHERE id = ?",
                     (*changes.values(), question_id))
        _relabel(store, actor, conn, row, new_kind, new_options)
        audit.record(conn, actor, "question.edit", "question", question_id,
                     before={k: row[k] for k in changes},
                     after=changes)
    return service.get_question(store, question_id)


def _relabel(store: Store, actor: User, conn, row, kind: str, options: dict) -> None:
    survey = conn.execute("SELECT title, base_language FROM surveys WHERE id = ?",
                          (row["survey_id"],)).fetchone()
    wanted = labels.label_words(kind, options)
    held = {r["label"]: r["message_id"] for r in conn.execute(
        "SELECT label, message_id FROM question_label_messages WHERE question_id = ?",
        (row["id"],))}
    for key, words in wanted.items():
        if key in held and not _shared(conn, "SELECT count(*) FROM question_label_messages "
                                           "WHERE message_id = ?", held[key]):
            links.edit_message_source(store, actor, held[key], words)
            continue
        if key in held:
            # Shared with an earlier version's question, whose words must not change.
            conn.execute("DELETE FROM question_label_messages WHERE question_id = ? AND "
                         "label = ?", (row["id"], key))
        message_id = links.label_message(store, actor, survey_title=survey["title"],
                                         question=row["name"], label=key, text=words,
                                         language=survey["base_language"])
        conn.execute("INSERT INTO question_label_messages (question_id, label, message_id) "
                     "VALUES (?, ?, ?)", (row["id"], key, message_id))
    for key in set(held) - set(wanted):
        # The message stays (its translations may serve another version); the link goes.
        conn.execute("DELETE FROM question_label_messages WHERE question_id = ? AND label = ?",
                     (row["id"], key))


def _shared(conn, count_sql: str, message_id: int | None) -> bool:
    """Whether more than one question (or label) carries its words in this message."""
    return message_id is not None and conn.execute(count_sql, (message_id,)).fetchone()[0] > 1


def move_question(store: Store, actor: User, question_id: int, offset: int) -> dict:
    """Move a question `offset` places (-1 up, +1 down) within its survey version; the
    others close up. Returns the survey with its questions in their new order."""
    from surveys import service

    actor.require("surveys.build")
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise BadInput("a question moves by a whole number of places", fix="use -1 or 1")
    with store.transaction() as conn:
        row = _question(conn, question_id)
        _editable(conn, row)
        order = [r["id"] for r in conn.execute(
            "SELECT id FROM survey_questions WHERE survey_id = ? AND survey_version = ? "
            "ORDER BY position, id", (row["survey_id"], row["survey_version"]))]
        at = order.index(question_id)
        to = max(0, min(len(order) - 1, at + offset))
        if to != at:
            order.insert(to, order.pop(at))
            for i, qid in enumerate(order, start=1):
                conn.execute("UPDATE survey_questions SET position = ? WHERE id = ?", (i, qid))
            audit.record(conn, actor, "question.move", "question", question_id,
                         detail=f"place {at + 1} -> {to + 1}")
    return service.get_survey(store, row["survey_id"])
