"""People, roles and API tokens.

A token looks like `coh_<prefix>_<secret>`. Only its sha256 is stored (tokens are
256-bit random, so a fast hash is enough; no password is ever involved). The
prefix identifies the token in listings and revocation without revealing it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cohear import audit
from cohear.errors import BadInput, Conflict, Forbidden, NotFound, Unauthorized
from cohear.permissions import ROLES, allowed, limited_to_own, who_may
from cohear.store import Store, utcnow
from cohear.text import check as check_text


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str

    def require(self, action: str) -> None:
        """Raise 403 naming the roles that may, when this user's role may not."""
        if not allowed(self.role, action):
            raise Forbidden(f"you are signed in as {self.name!r} with the role {self.role!r}, "
                            f"which may not do this ({action})",
                            fix=f"ask someone with the role {who_may(action)}")

    def may(self, action: str) -> bool:
        return allowed(self.role, action)

    def limited_to_own(self, action: str) -> bool:
        """True when this user may do `action` only to what they hold (permissions.OWN_ONLY)."""
        return limited_to_own(self.role, action)


SYSTEM = User(id=0, name="system", role="admin")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise BadInput(f"{role!r} is not a role", fix="use one of: " + ", ".join(ROLES))


def create_user(store: Store, name: str, role: str, *, actor: User = SYSTEM,
                ttl_days: int | None = None) -> tuple[User, str]:
    """Add a person and issue their first token. The token is returned once, never stored."""
    check_text(name, "user name")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise BadInput("a user name must be 1 to 100 characters", fix="choose another name")
    _check_role(role)
    with store.transaction() as conn:
        if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise Conflict(f"a user called {name!r} already exists",
                           fix="choose another name, or issue them a new token with "
                               "`cohear users token NAME`")
        cur = conn.execute("INSERT INTO users (name, role, created_at) VALUES (?, ?, ?)",
                           (name, role, utcnow()))
        user = User(cur.lastrowid, name, role)
        audit.record(conn, actor, "user.create", "user", user.id, after={"name": name, "role": role})
        token = _issue(conn, user, ttl_days or store.settings.token_ttl_days, actor)
    return user, token


def _issue(conn, user: User, ttl_days: int, actor: User, label: str = "") -> str:
    prefix = secrets.token_hex(4)
    token = f"coh_{prefix}_{secrets.token_urlsafe(32)}"
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=ttl_days)
               ).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    conn.execute("INSERT INTO tokens (user_id, prefix, token_hash, label, created_at, expires_at) "
                 "VALUES (?, ?, ?, ?, ?, ?)", (user.id, prefix, _hash(token), label, utcnow(), expires))
    audit.record(conn, actor, "token.issue", "user", user.id,
                 detail=f"token {prefix}, expires {expires}")
    return token


def issue_token(store: Store, name: str, *, actor: User = SYSTEM, ttl_days: int | None = None,
                label: str = "") -> str:
    user = get_user(store, name)
    with store.transaction() as conn:
        return _issue(conn, user, ttl_days or store.settings.token_ttl_days, actor, label)


def get_user(store: Store, name_or_id: str | int) -> User:
    col = "id" if isinstance(name_or_id, int) else "name"
    row = store.one(f"SELECT * FROM users WHERE {col} = ?", (name_or_id,))
    if row is None:
        raise NotFound(f"there is no user {name_or_id!r}", fix="see `cohear users list`")
    return User(row["id"], row["name"], row["role"])


def list_users(store: Store) -> list[dict]:
    rows = store.all("""SELECT u.id, u.name, u.role, u.created_at, u.disabled_at,
        (SELECT count(*) FROM tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL
            AND t.expires_at > ?) AS active_tokens FROM users u ORDER BY u.id""", (utcnow(),))
    return [dict(r) for r in rows]


def list_tokens(store: Store, name: str | None = None) -> list[dict]:
    sql = ("SELECT t.prefix, u.name AS user, u.role, t.label, t.created_at, t.expires_at, "
           "t.revoked_at, t.last_used_at FROM tokens t JOIN users u ON u.id = t.user_id")
    params: tuple = ()
    if name:
        sql += " WHERE u.name = ?"
        params = (name,)
    now = utcnow()
    out = []
    for r in store.all(sql + " ORDER BY t.id", params):
        item = dict(r)
        item["state"] = ("revoked" if r["revoked_at"] else
                         "expired" if r["expires_at"] <= now else "active")
        out.append(item)
    return out


def revoke_token(store: Store, prefix: str, *, actor: User = SYSTEM) -> None:
    prefix = prefix.removeprefix("coh_").split("_")[0]
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM tokens WHERE prefix = ?", (prefix,)).fetchone()
        if row is None:
            raise NotFound(f"there is no token {prefix!r}", fix="see `cohear users tokens`")
        if row["revoked_at"]:
            return
        conn.execute("UPDATE tokens SET revoked_at = ? WHERE id = ?", (utcnow(), row["id"]))
        audit.record(conn, actor, "token.revoke", "user", row["user_id"], detail=f"token {prefix}")


def authenticate(store: Store, token: str | None) -> User:
    """The user a bearer token belongs to, or 401 saying why not."""
    if not token:
        raise Unauthorized("this needs a cohear API token",
                           fix="send 'Authorization: Bearer <token>'; an admin issues tokens "
                               "with `cohear users add NAME --role ROLE`")
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "coh":
        raise Unauthorized("the token is not a cohear token",
                           fix="copy the whole token printed by `cohear users add`")
    row = store.one("SELECT t.*, u.name, u.role, u.disabled_at FROM tokens t "
                    "JOIN users u ON u.id = t.user_id WHERE t.prefix = ?", (parts[1],))
    if row is None or not hmac.compare_digest(row["token_hash"], _hash(token)):
        raise Unauthorized("the token is not valid", fix="ask an admin for a new token")
    if row["revoked_at"]:
        raise Unauthorized(f"the token {parts[1]} was revoked on {row['revoked_at'][:10]}",
                           fix="ask an admin for a new token")
    now = utcnow()
    if row["expires_at"] <= now:
        raise Unauthorized(f"the token {parts[1]} expired on {row['expires_at'][:10]}",
                           fix="ask an admin for a new token (`cohear users token NAME`)")
    if row["disabled_at"]:
        raise Unauthorized(f"the user {row['name']!r} is disabled", fix="ask an admin")
    # Recording last use is best effort: a busy database must not fail a read.
    if not (row["last_used_at"] or "")[:16] == now[:16]:
        try:
            store.conn.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (now, row["id"]))
        except Exception:  # noqa: BLE001 - never let bookkeeping fail authentication
            pass
    return User(row["user_id"], row["name"], row["role"])
