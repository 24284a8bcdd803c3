"""The review queue as pages: answers needing attention (unhandled safeguarding concerns,
then low-confidence transcripts, then the rest, verified last), filtered and counted.

A read-only query over the surveys tables (answers, sessions, questions, codings) and
speech's transcripts, because `surveys.service.review_queue` has no offset, no language,
collector or code filter and no confidence order. It never writes; collectors see only
their own sessions' answers, exactly as in `surveys.service`.

A reader of the pseudonymised view (researchers, `surveys.views.identifiable` false) is
told what `surveys.views` tells them and no more: no collector (no column, no collector
filter: the leader who gathered an answer is a link to the respondent), and safeguarding
only as whether a concern is open now, never that one was raised and handled.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cohear.auth import User
from cohear.errors import Forbidden
from cohear.store import Store
from surveys import views

PAGE_SIZE = 50
STATUSES = ("new", "transcribed", "verified")
# What the kind filter offers. Blank (None) means the answers with words to review (voice
# and typed): a scale or choice answer has nothing to transcribe, correct or translate, so
# it is listed only when asked for, unless it carries an open safeguarding concern.
KINDS = (("voice", "voice"), ("typed", "text"), ("scale and choice", "choice"),
         ("every kind", "all"))
_OPEN_CONCERN = "(a.safeguarding = 1 AND a.safeguarding_handled_at IS NULL)"

# Attention tiers: 0 an open safeguarding concern, 1 a transcript the machine is unsure
# of, 2 anything else not yet verified, 3 verified. Only voice answers look up their
# newest transcript (through its (recording_id, version) index), so ordering 100,000
# answers stays a scan of the answers table alone.
_TIER = ("CASE WHEN a.safeguarding = 1 AND a.safeguarding_handled_at IS NULL THEN 0 "
         "WHEN a.status = 'verified' THEN 3 "
         "WHEN a.recording_id IS NOT NULL AND (SELECT t.needs_review FROM transcripts t "
         "WHERE t.recording_id = a.recording_id ORDER BY t.version DESC LIMIT 1) = 1 THEN 1 "
         "ELSE 2 END")
_LATEST = ("LEFT JOIN transcripts t ON t.recording_id = a.recording_id AND t.version = "
           "(SELECT max(version) FROM transcripts t2 WHERE t2.recording_id = a.recording_id)")
_SESSIONS = "JOIN survey_sessions s ON s.id = a.session_id"
_WORDS = ("LEFT JOIN answer_texts o ON o.id = (SELECT o2.id FROM answer_texts o2 WHERE "
          "o2.answer_id = a.id AND o2.rendering = 'original' ORDER BY o2.version DESC LIMIT 1)")


@dataclass(frozen=True)
class QueueFilters:
    survey_id: int | None = None
    language: str | None = None
    status: str | None = None
    collector_id: int | None = None
    code_id: int | None = None
    kind: str | None = None     # None: voice and typed; "voice", "text", "choice" or "all"

    def but(self, **changes) -> QueueFilters:
        return replace(self, **changes)


def _scope(user: User, filters: QueueFilters, *, with_status: bool = True
           ) -> tuple[str, str, list]:
    """(join, where, params) selecting the answers `user` may see that match `filters`.
    Sessions are joined only when a filter or the role needs them."""
    clauses, params, sessions = ["1=1"], [], False
    if user.role == "collector":
        clauses.append("s.collector_id = ?")
        params.append(user.id)
        sessions = True
    if filters.survey_id is not None:
        clauses.append("s.survey_id = ?")
        params.append(filters.survey_id)
        sessions = True
    if filters.collector_id is not None:
        if not views.identifiable(user):
            raise Forbidden("the pseudonymised view has no collectors to filter by",
                            fix="filter by survey, language, status, kind or code")
        clauses.append("s.collector_id = ?")
        params.append(filters.collector_id)
        sessions = True
    if filters.language:
        clauses.append("a.language = ?")
        params.append(filters.language)
    if filters.kind is None:
        clauses.append(f"(a.kind != 'choice' OR {_OPEN_CONCERN})")
    elif filters.kind != "all":
        clauses.append("a.kind = ?")
        params.append(filters.kind)
    if with_status and filters.status:
        clauses.append("a.status = ?")
        params.append(filters.status)
    if filters.code_id is not None:
        clauses.append("EXISTS (SELECT 1 FROM codings g WHERE g.answer_id = a.id "
                       "AND g.code_id = ?)")
        params.append(filters.code_id)
    return (_SESSIONS if sessions else ""), " AND ".join(clauses), params


def queue_page(store: Store, user: User, filters: QueueFilters = QueueFilters(), *,
               offset: int = 0, limit: int = PAGE_SIZE) -> list[dict]:
    """One page of the queue, most urgent first."""
    user.require("answers.read")
    join, where, params = _scope(user, filters)
    # Order and cut the page on the answers alone, then fetch the details of its rows.
    page = (f"SELECT a.id, {_TIER} AS tier FROM answers a {join} WHERE {where} "
            f"ORDER BY tier, a.id LIMIT ? OFFSET ?")
    # With each row its newest words (for the preview) as an answer_texts row, so the
    # screen can show them through surveys.views (redacted for researchers).
    sql = (f"SELECT a.id, a.language, a.kind, a.status, a.safeguarding, a.choices_json, "
           f"a.safeguarding_handled_at, s.survey_id, u.name AS collector, q.name AS question, "
           f"t.confidence, t.needs_review, p.tier, o.id AS text_id, o.text AS text, "
           f"o.version AS text_version, o.source AS text_source FROM ({page}) p "
           f"JOIN answers a ON a.id = p.id {_SESSIONS} "
           f"JOIN survey_questions q ON q.id = a.question_id "
           f"JOIN users u ON u.id = s.collector_id {_LATEST} {_WORDS} ORDER BY p.tier, a.id")
    rows = [dict(r) for r in store.all(sql, (*params, limit, max(0, offset)))]
    if not views.identifiable(user):
        for row in rows:
            row.pop("collector")
            row["safeguarding"] = views.concern_open(row)
            row["safeguarding_handled_at"] = None
    return rows


def status_counts(store: Store, user: User, filters: QueueFilters = QueueFilters()
                  ) -> dict[str, int]:
    """How many answers match the other filters, per review status (and in all)."""
    user.require("answers.read")
    join, where, params = _scope(user, filters, with_status=False)
    counts = dict.fromkeys(STATUSES, 0)
    for row in store.all(f"SELECT a.status, count(*) AS n FROM answers a {join} "
                         f"WHERE {where} GROUP BY a.status", tuple(params)):
        counts[row["status"]] = row["n"]
    counts["safeguarding"] = store.one(
        f"SELECT count(*) FROM answers a {join} WHERE {where} "
        f"AND a.safeguarding = 1 AND a.safeguarding_handled_at IS NULL", tuple(params))[0]
    counts["all"] = sum(counts[s] for s in STATUSES)
    if filters.kind is None:
        hidden = filters.but(kind="choice")
        join, where, params = _scope(user, hidden, with_status=False)
        counts["hidden_choices"] = store.one(
            f"SELECT count(*) FROM answers a {join} WHERE {where} AND NOT {_OPEN_CONCERN}",
            tuple(params))[0]
    else:
        counts["hidden_choices"] = 0
    return counts


def filter_choices(store: Store, user: User) -> dict[str, list[tuple[str, int | str]]]:
    """What each filter can be set to: (label, value) pairs (a pseudonymised reader has
    no collector filter)."""
    user.require("answers.read")
    surveys = [(f"{r['title']} (#{r['id']})", r["id"])
               for r in store.all("SELECT id, title FROM surveys ORDER BY id")]
    languages = [(r[0], r[0]) for r in store.all(
        "SELECT DISTINCT language FROM survey_languages ORDER BY language")]
    collectors = [(r["name"], r["id"]) for r in store.all(
        "SELECT id, name FROM users WHERE role IN ('collector', 'admin') ORDER BY name")
    ] if views.identifiable(user) else []
    if user.role == "collector":
        collectors = [(n, i) for n, i in collectors if i == user.id]
    codes = [(f"{r['codebook']}: {r['name']}", r["id"]) for r in store.all(
        "SELECT c.id, c.name, b.name AS codebook FROM codes c JOIN codebooks b "
        "ON b.id = c.codebook_id ORDER BY b.name, c.name")]
    choices = {"survey": surveys, "language": languages,
               "status": [(s, s) for s in STATUSES], "collector": collectors, "code": codes,
               "kind": list(KINDS)}
    if not views.identifiable(user):
        del choices["collector"]
    return choices
