"""The append-only audit log: who did what, when, with the before and after of
people's words. Writes happen inside the caller's transaction, so a change and
its audit entry land together or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from cohear.store import utcnow


def record(conn: sqlite3.Connection, actor: Any, action: str, entity: str,
           entity_id: Any = None, *, before: Any = None, after: Any = None,
           detail: str = "") -> int:
    """Append one entry. `actor` is a User, or None for the system itself."""
    actor_id = getattr(actor, "id", None)
    actor_name = getattr(actor, "name", None) or "system"
    cur = conn.execute(
        "INSERT INTO audit_log (at, actor_id, actor_name, action, entity, entity_id, "
        "before_json, after_json, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (utcnow(), actor_id, actor_name, action, entity,
         None if entity_id is None else str(entity_id),
         None if before is None else json.dumps(before, ensure_ascii=False, sort_keys=True),
         None if after is None else json.dumps(after, ensure_ascii=False, sort_keys=True),
         detail))
    return cur.lastrowid


def erase_words(conn: sqlite3.Connection, entity: str, entity_ids: list[Any]) -> int:
    """Blank the before/after of entries about these entities (consent withdrawal).
    The fact that each change happened stays; the words go."""
    total = 0
    for eid in entity_ids:
        cur = conn.execute(
            "UPDATE audit_log SET before_json = NULL, after_json = NULL, erased = 1 "
            "WHERE entity = ? AND entity_id = ? AND erased = 0", (entity, str(eid)))
        total += cur.rowcount
    return total


def entries(conn: sqlite3.Connection, *, entity: str | None = None, entity_id: Any = None,
            limit: int = 100, before_id: int | None = None) -> list[dict]:
    sql = "SELECT * FROM audit_log WHERE 1=1"
    params: list[Any] = []
    if entity:
        sql += " AND entity = ?"
        params.append(entity)
    if entity_id is not None:
        sql += " AND entity_id = ?"
        params.append(str(entity_id))
    if before_id:
        sql += " AND id < ?"
        params.append(before_id)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    out = []
    for row in conn.execute(sql, params):
        item = dict(row)
        item["before"] = json.loads(item.pop("before_json")) if row["before_json"] else None
        item["after"] = json.loads(item.pop("after_json")) if row["after_json"] else None
        item["erased"] = bool(item["erased"])
        out.append(item)
    return out
