"""Messages a page at a time, filtered, and the coverage of messages x languages, both
aggregated in SQLite so that 10,000 messages in 25 languages read as fast as a hundred.

A translation's *status here* is its stored status, except that one made for an older
version of its message counts as `stale` whatever it says. A language a message has no
translation in is `none` (nobody has started it) when a machine path exists from the
message's language (a pack, directly or through English), else `no_path` (only a human
translator can do it, and nobody has been asked).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from cohear.errors import BadInput
from cohear.store import Store
from comms import service

PAGE_SIZE = 50
# What the coverage map and the filters call each state, in the order a legend shows.
STATES = ("machine", "needs_review", "approved", "human_requested", "received", "stale",
          "none", "no_path")
# Messages that carry other parts' words: survey questions (and their labels) and the
# field page's own strings. The list shows health messages unless asked for these.
KINDS = {"health": "health messages", "survey": "survey questions",
         "field-page": "the field page's words", "all": "every message"}
_SURVEY_TAG, _FIELD_PAGE_TAG = "survey-question", "collect-page"
_STATUS = ("CASE WHEN t.source_version != m.current_version THEN 'stale' "
           "ELSE t.status END")


@dataclass(frozen=True)
class MessageFilters:
    kind: str = "health"
    channel: str | None = None
    audience: str | None = None
    tag: str | None = None
    owner_id: int | None = None
    language: str | None = None      # with `status`: that status in that language
    status: str | None = None        # one of STATES; `none`/`no_path` need a language
    stale_only: bool = False         # messages with at least one stale translation

    def but(self, **changes) -> MessageFilters:
        return replace(self, **changes)


def _tagged(tag: str) -> str:
    return f"EXISTS (SELECT 1 FROM json_each(m.tags_json) WHERE value = '{tag}')"


def _where(filters: MessageFilters, pairs: set[tuple[str, str]]) -> tuple[str, list]:
    clauses, params = ["1=1"], []
    if filters.kind == "health":
        clauses.append(f"NOT {_tagged(_SURVEY_TAG)} AND NOT {_tagged(_FIELD_PAGE_TAG)}")
    elif filters.kind == "survey":
        clauses.append(_tagged(_SURVEY_TAG))
    elif filters.kind == "field-page":
        clauses.append(_tagged(_FIELD_PAGE_TAG))
    if filters.channel:
        clauses.append("m.channel = ?")
        params.append(filters.channel)
    if filters.audience is not None:
        clauses.append("m.audience = ?")
        params.append(filters.audience)
    if filters.tag:
        clauses.append("EXISTS (SELECT 1 FROM json_each(m.tags_json) WHERE value = ?)")
        params.append(filters.tag.strip().lower())
    if filters.owner_id is not None:
        clauses.append("m.owner_id = ?")
        params.append(filters.owner_id)
    if filters.stale_only:
        clauses.append("EXISTS (SELECT 1 FROM translations t WHERE t.message_id = m.id AND "
                       "(t.status = 'stale' OR t.source_version != m.current_version))")
    language, status = filters.language, filters.status
    if status in ("none", "no_path"):
        if not language:
            raise BadInput("`none` and `no path` are about one language",
                                   fix="choose a language too")
        clauses.append("NOT EXISTS (SELECT 1 FROM translations t WHERE t.message_id = m.id "
                       "AND t.language = ?)")
        params.append(language)
        # Which source languages reach it by machine decides `none` against `no_path`.
        sources = sorted({s for s, t in _reachable(pairs) if t == language})
        marks = ", ".join("?" * len(sources)) or "NULL"
        clauses.append(f"m.source_language {'IN' if status == 'none' else 'NOT IN'} ({marks})"
                       if sources else ("0" if status == "none" else "1"))
        params.extend(sources)
    elif status or language:
        sql = "EXISTS (SELECT 1 FROM translations t WHERE t.message_id = m.id"
        if language:
            sql += " AND t.language = ?"
            params.append(language)
        if status:
            sql += f" AND {_STATUS} = ?"
            params.append(status)
        clauses.append(sql + ")")
    return " AND ".join(clauses), params


def _pairs(store: Store) -> set[tuple[str, str]]:
    from language_packs.packs import installed_pairs
    return {(p["source"], p["target"]) for p in installed_pairs(store)}


def _reachable(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Every (source, target) the engine can translate: direct, or through English."""
    out = set(pairs)
    for source, middle in pairs:
        if middle == "en":
            out |= {(source, target) for s, target in pairs if s == "en" and target != source}
    return out


def machine_paths(store: Store) -> set[tuple[str, str]]:
    """(source, target) language pairs the installed packs translate, directly or
    through English (the engine pivots X -> en -> Y)."""
    return _reachable(_pairs(store))


def count_messages(store: Store, filters: MessageFilters = MessageFilters()) -> int:
    where, params = _where(filters, _pairs(store))
    return store.one(f"SELECT count(*) FROM messages m WHERE {where}", tuple(params))[0]


def message_page(store: Store, filters: MessageFilters = MessageFilters(), *, offset: int = 0,
                 limit: int = PAGE_SIZE) -> list[dict]:
    """One page of messages, newest first, each with its status per language here."""
    pairs = _pairs(store)
    where, params = _where(filters, pairs)
    rows = store.all(
        "SELECT m.id, m.title, m.channel, m.audience, m.tags_json, m.source_language, "
        "m.current_version, m.updated_at, m.owner_id, u.name AS owner FROM messages m "
        f"LEFT JOIN users u ON u.id = m.owner_id WHERE {where} ORDER BY m.id DESC "
        "LIMIT ? OFFSET ?", (*params, limit, max(0, offset)))
    out = [dict(r) | {"statuses": {}} for r in rows]
    by_id = {m["id"]: m for m in out}
    if by_id:
        marks = ", ".join("?" * len(by_id))
        for r in store.all(f"SELECT t.message_id, t.language, {_STATUS} AS status "
                           "FROM translations t JOIN messages m ON m.id = t.message_id "
                           f"WHERE t.message_id IN ({marks})", tuple(by_id)):
            by_id[r["message_id"]]["statuses"][r["language"]] = r["status"]
    return out


def cell_state(message: dict, language: str, paths: set[tuple[str, str]]) -> str:
    """A message's state in a language on the map: its status, else `none` or `no_path`."""
    found = message["statuses"].get(language)
    if found:
        return found
    return "none" if (message["source_language"], language) in paths else "no_path"


def map_languages(store: Store, also: Iterable[str] = ()) -> list[str]:
    """The map's columns: the region's languages other than English (registry order),
    then every other language some message is translated into."""
    from language_packs.registry import LANGUAGES
    tags = [t for t in LANGUAGES if t != "en"]
    # A loose index scan: one seek per language in translations_language_status.
    others = {r[0] for r in store.all(
        "WITH RECURSIVE seen(language) AS (SELECT min(language) FROM translations "
        "UNION ALL SELECT (SELECT min(language) FROM translations t WHERE t.language > "
        "seen.language) FROM seen WHERE seen.language IS NOT NULL) "
        "SELECT language FROM seen WHERE language IS NOT NULL")}
    others |= set(also)
    return tags + sorted(others - set(tags) - {"en"})


def coverage_totals(store: Store, filters: MessageFilters = MessageFilters(),
                    languages: Iterable[str] | None = None) -> dict[str, dict[str, int]]:
    """language -> state -> how many of the filtered messages are in it: one pass of
    SQLite over the translations, grouped, and one count of messages per source language.
    A message with no translation in a language is `none` or `no_path` by whether its
    own language reaches that one by machine."""
    pairs = _pairs(store)
    paths = _reachable(pairs)
    where, params = _where(filters, pairs)
    tags = list(languages) if languages is not None else map_languages(store)
    totals: dict[str, dict[str, int]] = {t: dict.fromkeys(STATES, 0) for t in tags}
    translated: dict[tuple[str, str], int] = {}
    for r in store.all(f"SELECT m.source_language AS source, t.language, {_STATUS} AS status, "
                       "count(*) AS n FROM translations t JOIN messages m "
                       f"ON m.id = t.message_id WHERE {where} GROUP BY 1, 2, 3", tuple(params)):
        if r["language"] in totals:
            totals[r["language"]][r["status"]] += r["n"]
            key = (r["source"], r["language"])
            translated[key] = translated.get(key, 0) + r["n"]
    by_source = {r["source_language"]: r["n"] for r in store.all(
        f"SELECT m.source_language, count(*) AS n FROM messages m WHERE {where} GROUP BY 1",
        tuple(params))}
    for tag, counts in totals.items():
        for source, n in by_source.items():
            if source == tag:
                continue
            missing = n - translated.get((source, tag), 0)
            counts["none" if (source, tag) in paths else "no_path"] += missing
    return totals


def filter_choices(store: Store) -> dict[str, list[tuple[str, object]]]:
    """What each filter can be set to: (label, value) pairs, read with a few queries."""
    from language_packs.registry import get_language
    tags = sorted({r[0] for r in store.all(
        "SELECT DISTINCT j.value FROM messages m, json_each(m.tags_json) j")})
    audiences = [r[0] for r in store.all(
        "SELECT DISTINCT audience FROM messages WHERE audience != '' ORDER BY audience")]
    owners = [(r["name"], r["id"]) for r in store.all(
        "SELECT DISTINCT u.id, u.name FROM messages m JOIN users u ON u.id = m.owner_id "
        "ORDER BY u.name")]
    languages = []
    for tag in map_languages(store):
        try:
            languages.append((f"{tag} {get_language(tag).english_name}", tag))
        except BadInput:
            languages.append((tag, tag))
    return {"kind": [(label, key) for key, label in KINDS.items()],
            "channel": [(c, c) for c in service.CHANNELS],
            "audience": [(a, a) for a in audiences],
            "tag": [(t, t) for t in tags],
            "owner": owners,
            "language": languages,
            "status": [(s.replace("_", " "), s) for s in STATES]}
