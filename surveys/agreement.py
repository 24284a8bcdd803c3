"""Inter-coder agreement: Cohen's kappa between two coders (per code and overall) and
Krippendorff's alpha for any number of coders, with the counts behind every figure.

A unit is an answer. For each code, a coder's decision on an answer they coded at all
is 1 (they applied the code somewhere in it) or 0; answers a coder never coded are
missing for that coder. Overall kappa pools every (answer, code) decision.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from itertools import permutations

from cohear.auth import User
from cohear.errors import BadInput, Conflict
from cohear.permissions import register
from cohear.store import Store

register({"agreement.read": {"admin", "reviewer", "researcher"}})


def cohen_kappa(pairs: Iterable[tuple[Hashable, Hashable]]) -> dict:
    """Kappa for two raters over paired judgements, with the confusion counts.

    Returns {"kappa", "observed", "expected", "n", "confusion": {(a, b): count}}; kappa is
    None when chance agreement is total (both raters used one category only)."""
    confusion = Counter(pairs)
    n = sum(confusion.values())
    if n == 0:
        return {"kappa": None, "observed": None, "expected": None, "n": 0, "confusion": {}}
    first, second = Counter(), Counter()
    for (a, b), k in confusion.items():
        first[a] += k
        second[b] += k
    observed = sum(k for (a, b), k in confusion.items() if a == b) / n
    expected = sum(first[c] * second[c] for c in first) / (n * n)
    kappa = None if expected == 1 else (observed - expected) / (1 - expected)
    return {"kappa": kappa, "observed": observed, "expected": expected, "n": n,
            "confusion": dict(confusion)}


def krippendorff_alpha(units: Iterable[Sequence[Hashable | None]]) -> dict:
    """Nominal alpha. Each unit lists one value per coder (None where missing); units
    with fewer than two values are not pairable and are left out.

    Returns {"alpha", "observed_disagreement", "expected_disagreement", "n", "coincidence"}."""
    coincidence: Counter = Counter()
    for unit in units:
        values = [v for v in unit if v is not None]
        m = len(values)
        if m < 2:
            continue
        for a, b in permutations(range(m), 2):
            coincidence[(values[a], values[b])] += 1 / (m - 1)
    totals: Counter = Counter()
    for (c, _), w in coincidence.items():
        totals[c] += w
    n = sum(totals.values())
    if n <= 1:
        return {"alpha": None, "observed_disagreement": None, "expected_disagreement": None,
                "n": n, "coincidence": {}}
    d_o = sum(w for (c, k), w in coincidence.items() if c != k) / n
    d_e = sum(totals[c] * totals[k] for c in totals for k in totals if c != k) / (n * (n - 1))
    alpha = None if d_e == 0 else 1 - d_o / d_e
    return {"alpha": alpha, "observed_disagreement": d_o, "expected_disagreement": d_e,
            "n": n, "coincidence": {k: round(v, 6) for k, v in coincidence.items()}}


def _decisions(store: Store, survey_id: int, coder_ids: list[int]):
    """(answers each coder coded, {(answer, code, coder)}, codes used) for the survey."""
    coded: dict[int, set[int]] = {c: set() for c in coder_ids}
    applied: set[tuple[int, int, int]] = set()
    codes: dict[int, str] = {}
    marks = ",".join("?" * len(coder_ids))
    # Rows arrive one at a time; only ids are kept, so memory grows with answers, not text.
    cur = store.conn.execute(
        f"SELECT g.answer_id, g.code_id, g.coder_id, c.name FROM codings g "
        f"JOIN answers a ON a.id = g.answer_id JOIN survey_sessions s ON s.id = a.session_id "
        f"JOIN codes c ON c.id = g.code_id WHERE s.survey_id = ? AND g.coder_id IN ({marks})",
        (survey_id, *coder_ids))
    for answer_id, code_id, coder_id, name in cur:
        coded[coder_id].add(answer_id)
        applied.add((answer_id, code_id, coder_id))
        codes[code_id] = name
    return coded, applied, codes


def survey_agreement(store: Store, actor: User, survey_id: int,
                     coder_ids: list[int] | None = None) -> dict:
    """Kappa (two coders) or alpha (any number) per code and overall for a survey."""
    actor.require("agreement.read")
    if coder_ids is None:
        coder_ids = [r[0] for r in store.all(
            "SELECT DISTINCT g.coder_id FROM codings g JOIN answers a ON a.id = g.answer_id "
            "JOIN survey_sessions s ON s.id = a.session_id WHERE s.survey_id = ? "
            "ORDER BY g.coder_id", (survey_id,))]
    coder_ids = list(dict.fromkeys(coder_ids))
    if len(coder_ids) < 2:
        raise Conflict(f"survey {survey_id} has {len(coder_ids)} coder(s); agreement needs two "
                       "or more coding the same answers",
                       fix="ask a second coder to code some of the same answers independently")
    coded, applied, codes = _decisions(store, survey_id, coder_ids)
    names = {r["id"]: r["name"] for r in store.all(
        f"SELECT id, name FROM users WHERE id IN ({','.join('?' * len(coder_ids))})",
        tuple(coder_ids))}
    all_answers = sorted(set().union(*coded.values()))
    out: dict = {"survey_id": survey_id, "coders": [{"id": c, "name": names.get(c)}
                                                    for c in coder_ids],
                 "units": len(all_answers), "codes": []}
    pooled_pairs: list[tuple[int, int]] = []
    pooled_units: list[list[int | None]] = []
    two = len(coder_ids) == 2
    if two:
        a, b = coder_ids
        shared = sorted(coded[a] & coded[b])
        out["shared_units"] = len(shared)
        if not shared:
            raise BadInput("the two coders have not coded any of the same answers",
                           fix="agreement compares coders on answers both have coded")
    for code_id, code_name in sorted(codes.items(), key=lambda kv: kv[1]):
        item: dict = {"code_id": code_id, "code": code_name}
        units = [[(1 if (ans, code_id, c) in applied else 0) if ans in coded[c] else None
                  for c in coder_ids] for ans in all_answers]
        pooled_units += units
        alpha = krippendorff_alpha(units)
        item["alpha"] = alpha["alpha"]
        if two:
            pairs = [(u[0], u[1]) for u in units if u[0] is not None and u[1] is not None]
            pooled_pairs += pairs
            k = cohen_kappa(pairs)
            item["kappa"] = k["kappa"]
            item["observed_agreement"] = k["observed"]
            item["expected_agreement"] = k["expected"]
            item["confusion"] = _confusion_words(k["confusion"])
        out["codes"].append(item)
    overall_alpha = krippendorff_alpha(pooled_units)
    out["overall"] = {"alpha": overall_alpha["alpha"], "decisions": len(pooled_units)}
    if two:
        k = cohen_kappa(pooled_pairs)
        out["overall"].update({"kappa": k["kappa"], "observed_agreement": k["observed"],
                               "expected_agreement": k["expected"],
                               "confusion": _confusion_words(k["confusion"])})
    return out


def _confusion_words(confusion: dict) -> dict:
    return {"both": confusion.get((1, 1), 0), "first_only": confusion.get((1, 0), 0),
            "second_only": confusion.get((0, 1), 0), "neither": confusion.get((0, 0), 0)}
