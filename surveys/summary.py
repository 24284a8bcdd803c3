"""The survey summary: answers per question and language, per demographic band, and
code frequencies by language, as tables and as PNG charts (matplotlib, Agg backend)."""

from __future__ import annotations

import io
import json

from cohear.auth import User
from cohear.errors import Conflict
from cohear.permissions import register
from cohear.store import Store
from surveys import service

register({"surveys.summary": {"admin", "communicator", "reviewer", "researcher"}})


def summarise(store: Store, actor: User, survey_id: int) -> dict:
    actor.require("surveys.summary")
    service.get_survey(store, survey_id)
    by_question = [dict(r) for r in store.all(
        "SELECT q.name AS question, a.language, count(*) AS answers FROM answers a "
        "JOIN survey_questions q ON q.id = a.question_id JOIN survey_sessions s ON "
        "s.id = a.session_id WHERE s.survey_id = ? GROUP BY q.name, a.language "
        "ORDER BY min(q.position), a.language", (survey_id,))]
    by_band = []
    fields = store.all("SELECT DISTINCT q.name, q.options_json FROM survey_questions q "
                       "WHERE q.survey_id = ? AND q.kind = 'demographic'", (survey_id,))
    for field in fields:
        what = json.loads(field["options_json"])["field"]
        # Each respondent's band is their answer to the demographic question; their other
        # answers are counted under it ("not given" when they skipped the question).
        rows = store.all(
            "SELECT q.name AS question, coalesce(json_extract(d.choices_json, '$[0]'), "
            "'not given') AS band, count(*) AS answers FROM answers a "
            "JOIN survey_questions q ON q.id = a.question_id "
            "JOIN survey_sessions s ON s.id = a.session_id "
            "LEFT JOIN answers d ON d.respondent_id = a.respondent_id AND d.question_id IN "
            "(SELECT id FROM survey_questions WHERE survey_id = ? AND name = ?) "
            "WHERE s.survey_id = ? AND q.kind != 'demographic' "
            "GROUP BY q.name, band ORDER BY min(q.position), band",
            (survey_id, field["name"], survey_id))
        by_band += [{"demographic": what} | dict(r) for r in rows]
    codes = [dict(r) for r in store.all(
        "SELECT c.name AS code, a.language, count(*) AS codings, "
        "count(DISTINCT a.id) AS answers FROM codings g JOIN codes c ON c.id = g.code_id "
        "JOIN answers a ON a.id = g.answer_id JOIN survey_sessions s ON s.id = a.session_id "
        "WHERE s.survey_id = ? GROUP BY c.name, a.language ORDER BY c.name, a.language",
        (survey_id,))]
    return {"survey_id": survey_id, "answers_by_question_and_language": by_question,
            "answers_by_demographic_band": by_band, "codes_by_language": codes}


def chart_png(store: Store, actor: User, survey_id: int, chart: str) -> bytes:
    """A grouped bar chart: 'answers' (per question, by language) or 'codes' (per code,
    by language)."""
    import matplotlib
    matplotlib.use("Agg")  # no display on a server
    from matplotlib.figure import Figure

    data = summarise(store, actor, survey_id)
    rows = data["answers_by_question_and_language"] if chart == "answers" \
        else data["codes_by_language"]
    label, value = ("question", "answers") if chart == "answers" else ("code", "codings")
    if not rows:
        raise Conflict(f"survey {survey_id} has no {value} to chart yet",
                       fix="collect or code some answers first")
    groups = list(dict.fromkeys(r[label] for r in rows))
    languages = sorted({r["language"] for r in rows})
    counts = {(r[label], r["language"]): r[value] for r in rows}
    fig = Figure(figsize=(max(6, len(groups) * 1.2), 4), dpi=100)
    ax = fig.subplots()
    width = 0.8 / len(languages)
    for i, lang in enumerate(languages):
        ax.bar([g + i * width for g in range(len(groups))],
               [counts.get((grp, lang), 0) for grp in groups], width, label=lang)
    ax.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))], groups, rotation=30,
                  ha="right")
    ax.set_ylabel(value)
    ax.set_title(f"{value.capitalize()} per {label}, by language")
    ax.legend(title="language")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
