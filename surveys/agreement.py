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
    return kappa_from_confusion(Counter(pairs))


def kappa_from_confusion(confusion: dict) -> dict:
    """Kappa from counts {(first rater's value, second's): n}."""
    confusion = {k: v for k, v in confusion.items() if v}
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
            "confusion": confusion}


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
    return alpha_from_coincidence(coincidence)


def alpha_from_coincidence(coincidence: dict) -> dict:
    """Nominal alpha from a coincidence matrix {(value, value): weight}."""
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


def survey_agreement(store: Store, actor: User, survey_id: int,
                     coder_ids: list[int] | None = None) -> dict:
    """Kappa (two coders) or alpha (any number) per code and overall for a survey.

    The counts are aggregated by SQLite (GROUP BY over codings), so memory does not grow
    with the number of answers; only one row per code reaches Python."""
    actor.require("agreement.read")
    conn = store.conn
    if coder_ids is None:
        coder_ids = [r[0] for r in conn.execute(
            "SELECT DISTINCT g.coder_id FROM codings g JOIN answers a ON a.id = g.answer_id "
            "JOIN survey_sessions s ON s.id = a.session_id WHERE s.survey_id = ? "
            "ORDER BY g.coder_id", (survey_id,))]
    coder_ids = list(dict.fromkeys(coder_ids))
    if len(coder_ids) < 2:
        raise Conflict(f"survey {survey_id} has {len(coder_ids)} coder(s); agreement needs two "
                       "or more coding the same answers",
                       fix="ask a second coder to code some of the same answers independently")
    marks = ",".join("?" * len(coder_ids))
    names = {r["id"]: r["name"] for r in conn.execute(
        f"SELECT id, name FROM users WHERE id IN ({marks})", coder_ids)}
    # decided: (answer, code, coder) a coder applied; coded: (answer, coder) looked at;
    # m: coders per pairable answer (two or more looked at it); k: coders per answer and
    # code who applied it. Alpha's coincidences for a binary value follow from m and k.
    params = {"survey": survey_id} | {f"c{i}": c for i, c in enumerate(coder_ids)}
    scope = ("FROM codings g JOIN answers a ON a.id = g.answer_id JOIN survey_sessions s "
             "ON s.id = a.session_id WHERE s.survey_id = :survey AND g.coder_id IN ("
             + ",".join(f":c{i}" for i in range(len(coder_ids))) + ")")
    ctes = f"""WITH decided AS MATERIALIZED (
            SELECT DISTINCT g.answer_id, g.code_id, g.coder_id {scope}),
        coded AS MATERIALIZED (SELECT DISTINCT answer_id, coder_id FROM decided),
        m AS MATERIALIZED (SELECT answer_id, count(*) AS m FROM coded GROUP BY answer_id
                           HAVING m >= 2),
        k AS MATERIALIZED (SELECT d.answer_id, d.code_id, count(*) AS k,
                                  max(d.coder_id = :c0) AS first, max(d.coder_id = :c1) AS second
                           FROM decided d JOIN m ON m.answer_id = d.answer_id
                           GROUP BY d.answer_id, d.code_id)"""
    pairable, values = conn.execute(f"{ctes} SELECT count(*), coalesce(sum(m), 0) FROM m",
                                    params).fetchone()
    units_all = conn.execute(f"{ctes} SELECT count(DISTINCT answer_id) FROM coded",
                             params).fetchone()[0]
    codes = conn.execute(
        f"""{ctes} SELECT c.id, c.name,
            coalesce(sum(1.0 * k.k * (k.k - 1) / (m.m - 1)), 0) AS o11,
            coalesce(sum(1.0 * k.k * (m.m - k.k) / (m.m - 1)), 0) AS o10,
            coalesce(sum(1.0 * (m.m - k.k) * (m.m - k.k - 1) / (m.m - 1) - m.m), 0) AS o00_fix
            FROM codes c LEFT JOIN k ON k.code_id = c.id LEFT JOIN m ON m.answer_id = k.answer_id
            WHERE c.id IN (SELECT code_id FROM decided) GROUP BY c.id ORDER BY c.name""",
        params).fetchall()
    out: dict = {"survey_id": survey_id, "coders": [{"id": c, "name": names.get(c)}
                                                    for c in coder_ids],
                 "units": units_all, "pairable_units": pairable, "codes": []}
    two = len(coder_ids) == 2
    confusions: dict[int, Counter] = {}
    if two:
        shared = pairable  # with two coders, a pairable answer is one both coded
        out["shared_units"] = shared
        if not shared:
            raise BadInput("the two coders have not coded any of the same answers",
                           fix="agreement compares coders on answers both have coded")
        for code_id, both, first_only, second_only in conn.execute(
                f"""{ctes} SELECT code_id, sum(first AND second), sum(first AND NOT second),
                    sum(second AND NOT first) FROM k GROUP BY code_id""", params):
            confusions[code_id] = Counter({(1, 1): both, (1, 0): first_only, (0, 1): second_only,
                                           (0, 0): shared - both - first_only - second_only})
    pooled_coincidence: Counter = Counter()
    pooled_confusion: Counter = Counter()
    for row in codes:
        o11, o10 = row["o11"], row["o10"]
        # Answers where nobody applied the code add (0, 0) coincidences m each; o00_fix
        # corrects that for the answers where someone did.
        o00 = values + row["o00_fix"]
        coincidence = {(1, 1): o11, (1, 0): o10, (0, 1): o10, (0, 0): o00}
        pooled_coincidence.update(coincidence)
        item: dict = {"code_id": row["id"], "code": row["name"],
                      "alpha": alpha_from_coincidence(coincidence)["alpha"],
                      "coincidences": _coincidence_words(coincidence)}
        if two:
            k = kappa_from_confusion(confusions.get(row["id"], Counter({(0, 0): shared})))
            pooled_confusion.update(confusions.get(row["id"], Counter({(0, 0): shared})))
            item.update({"kappa": k["kappa"], "observed_agreement": k["observed"],
                         "expected_agreement": k["expected"],
                         "confusion": _confusion_words(k["confusion"])})
        out["codes"].append(item)
    out["overall"] = {"alpha": alpha_from_coincidence(pooled_coincidence)["alpha"],
                      "coincidences": _coincidence_words(pooled_coincidence),
                      "decisions": pairable * len(codes)}
    if two:
        k = kappa_from_confusion(pooled_confusion)
        out["overall"].update({"kappa": k["kappa"], "observed_agreement": k["observed"],
                               "expected_agreement": k["expected"],
                               "confusion": _confusion_words(k["confusion"])})
    return out


def _confusion_words(confusion: dict) -> dict:
    return {"both": confusion.get((1, 1), 0), "first_only": confusion.get((1, 0), 0),
            "second_only": confusion.get((0, 1), 0), "neither": confusion.get((0, 0), 0)}


def _coincidence_words(coincidence: dict) -> dict:
    """Alpha's coincidence matrix for applied (1) / not applied (0), as pairable values."""
    return {"applied_applied": round(coincidence.get((1, 1), 0), 6),
            "applied_not": round(coincidence.get((1, 0), 0), 6),
            "not_applied": round(coincidence.get((0, 1), 0), 6),
            "not_not": round(coincidence.get((0, 0), 0), 6)}
