"""One-time sign-in links for the field-capture page: an admin issues a link for a
collector; its single-use code exchanges for a short-lived collector token.

Only the sha256 of a code is stored. A link expires, can be revoked before or after
use (revoking a used link also revokes the token it gave), and works once.

Issuing one is an admin's task, so its refusals carry codes of their own
(`link-user-unknown`, `link-user-not-collector`, `link-user-disabled`,
`link-minutes-invalid`): the field page shows an admin an admin's message for each,
never a leader's message about respondents.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from cohear import audit
from cohear.auth import User, get_user, issue_token, revoke_token
from cohear.errors import BadInput, Conflict, NotFound, Unauthorized
from cohear.permissions import register
from cohear.store import Store, utcnow

register({"collect.links": {"admin"}})

DEFAULT_LINK_MINUTES = 24 * 60
DEFAULT_TOKEN_MINUTES = 12 * 60
MAX_LINK_MINUTES = 14 * 24 * 60
MAX_TOKEN_MINUTES = 7 * 24 * 60
CODE_PREFIX = "cl_"


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def _later(minutes: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
            ).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _minutes(value: int, what: str, most: int) -> int:
    if not isinstance(value, int) or not 1 <= value <= most:
        raise BadInput(f"{what} must be 1 to {most} minutes, not {value!r}",
                       fix=f"give a whole number of minutes up to {most}",
                       code="link-minutes-invalid")
    return value


def issue_link(store: Store, actor: User, collector: str, *,
               link_minutes: int = DEFAULT_LINK_MINUTES,
               token_minutes: int = DEFAULT_TOKEN_MINUTES) -> dict:
    """A new one-time link for a collector. The code is in the answer only, once."""
    actor.require("collect.links")
    link_minutes = _minutes(link_minutes, "a link's life", MAX_LINK_MINUTES)
    token_minutes = _minutes(token_minutes, "a token's life", MAX_TOKEN_MINUTES)
    row = store.one("SELECT id, name, role, disabled_at FROM users WHERE name = ?",
                    (collector,))
    if row is None:
        raise NotFound(f"there is no user {collector!r}",
                       fix="check the collector's user name (`cohear users list`)",
                       code="link-user-unknown")
    if row["role"] != "collector":
        raise BadInput(f"{row['name']!r} has the role {row['role']!r}; one-time links are "
                       "for collectors", fix="issue the link to a collector, or give this "
                                             "person a token with `cohear users token NAME`",
                       code="link-user-not-collector")
    if row["disabled_at"]:
        raise Conflict(f"the collector {row['name']!r} is switched off, so a link would not "
                       "sign them in", fix="switch the account on again first",
                       code="link-user-disabled")
    person = User(row["id"], row["name"], row["role"])
    code = CODE_PREFIX + secrets.token_urlsafe(24)
    expires = _later(link_minutes)
    with store.transaction() as conn:
        link_id = conn.execute(
            "INSERT INTO collect_links (code_hash, collector_id, created_by, created_at, "
            "expires_at, token_minutes) VALUES (?, ?, ?, ?, ?, ?)",
            (_hash(code), person.id, actor.id or None, utcnow(), expires, token_minutes)
        ).lastrowid
        audit.record(conn, actor, "collect_link.issue", "user", person.id,
                     detail=f"one-time link {link_id}, expires {expires}")
    return {"id": link_id, "collector": person.name, "code": code, "expires_at": expires,
            "token_minutes": token_minutes,
            # The code rides in the fragment, which browsers never send to a server
            # or put in a Referer header.
            "path": f"/collect/#link={code}"}


def exchange(store: Store, code: str) -> dict:
    """Swap a link's code for a collector token. Works once, before the link expires."""
    code = (code or "").strip()
    if not code.startswith(CODE_PREFIX):
        raise Unauthorized("this is not a cohear sign-in link",
                           fix="open the whole link you were sent, or ask an admin for a new one",
                           code="link-invalid")
    wanted = _hash(code)
    now = utcnow()
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM collect_links WHERE code_hash = ?",
                           (wanted,)).fetchone()
        if row is None or not hmac.compare_digest(row["code_hash"], wanted):
            raise Unauthorized("this sign-in link is not valid",
                               fix="ask an admin for a new link", code="link-invalid")
        if row["revoked_at"]:
            raise Unauthorized("this sign-in link was withdrawn", fix="ask an admin for a new link",
                               code="link-withdrawn")
        if row["used_at"]:
            raise Unauthorized("this sign-in link was already used",
                               fix="each link works once; ask an admin for a new one",
                               code="link-used")
        if row["expires_at"] <= now:
            raise Unauthorized(f"this sign-in link expired on {row['expires_at'][:16]} UTC",
                               fix="ask an admin for a new link", code="link-expired")
        # Claim the link before issuing the token, in the same transaction: a second
        # exchange of the same code sees used_at and is refused.
        conn.execute("UPDATE collect_links SET used_at = ? WHERE id = ? AND used_at IS NULL",
                     (now, row["id"]))
    person = get_user(store, row["collector_id"])
    token = issue_token(store, person.name, ttl_days=row["token_minutes"] / (24 * 60),
                        label=f"one-time link {row['id']}")
    prefix = token.split("_")[1]
    with store.transaction() as conn:
        conn.execute("UPDATE collect_links SET token_prefix = ? WHERE id = ?", (prefix, row["id"]))
        audit.record(conn, person, "collect_link.use", "user", person.id,
                     detail=f"one-time link {row['id']} gave token {prefix}")
    expires = store.one("SELECT expires_at FROM tokens WHERE prefix = ?", (prefix,))["expires_at"]
    return {"token": token, "collector": person.name, "expires_at": expires}


def revoke_link(store: Store, actor: User, link_id: int) -> dict:
    """Withdraw a link; if it was used, the token it gave stops working too."""
    actor.require("collect.links")
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM collect_links WHERE id = ?", (link_id,)).fetchone()
        if row is None:
            raise NotFound(f"sign-in link {link_id} does not exist", fix="see GET /collect/api/links")
        if row["revoked_at"]:
            raise Conflict(f"sign-in link {link_id} was already withdrawn", fix="nothing to do")
        conn.execute("UPDATE collect_links SET revoked_at = ?, revoked_by = ? WHERE id = ?",
                     (utcnow(), actor.id or None, link_id))
        audit.record(conn, actor, "collect_link.revoke", "user", row["collector_id"],
                     detail=f"one-time link {link_id}")
    if row["token_prefix"]:
        revoke_token(store, row["token_prefix"], actor=actor)
    return get_link(store, actor, link_id)


def _link_dict(row) -> dict:
    item = {k: row[k] for k in ("id", "collector_id", "created_at", "expires_at",
                                "token_minutes", "used_at", "token_prefix", "revoked_at")}
    item["collector"] = row["collector"]
    item["state"] = ("withdrawn" if row["revoked_at"] else "used" if row["used_at"] else
                     "expired" if row["expires_at"] <= utcnow() else "waiting")
    return item


def get_link(store: Store, actor: User, link_id: int) -> dict:
    actor.require("collect.links")
    row = store.one("SELECT l.*, u.name AS collector FROM collect_links l JOIN users u "
                    "ON u.id = l.collector_id WHERE l.id = ?", (link_id,))
    if row is None:
        raise NotFound(f"sign-in link {link_id} does not exist", fix="see GET /collect/api/links")
    return _link_dict(row)


def list_links(store: Store, actor: User) -> list[dict]:
    actor.require("collect.links")
    return [_link_dict(r) for r in store.all(
        "SELECT l.*, u.name AS collector FROM collect_links l JOIN users u "
        "ON u.id = l.collector_id ORDER BY l.id DESC LIMIT 500")]
