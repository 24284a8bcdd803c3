"""Signing in to the TUI: the same API token and the same role table as the web API,
so a person may do in the terminal exactly what they may do over HTTP. A `worker` token
(a transcription machine's) is refused here: the review app is for people, and a worker's
role may do nothing in it but would land on the review queue.
"""

from __future__ import annotations

import os

from cohear.auth import User, authenticate
from cohear.errors import Forbidden, Unauthorized
from cohear.permissions import PEOPLE
from cohear.store import Store

TOKEN_ENV = "COHEAR_TOKEN"


def sign_in(store: Store, token: str | None = None) -> User:
    """The user a token belongs to: `token`, else the COHEAR_TOKEN environment variable."""
    token = (token or os.environ.get(TOKEN_ENV) or "").strip()
    if not token:
        raise Unauthorized("the review app needs your cohear token",
                           fix=f"pass --token TOKEN or set {TOKEN_ENV}; an admin issues one "
                               "with `cohear users token NAME`")
    return a_person(authenticate(store, token))


def a_person(user: User) -> User:
    """`user`, when a person's role: a transcription machine's `worker` token is refused
    (403), saying what it is for."""
    if user.role not in PEOPLE:
        raise Forbidden("worker tokens are for cohear worker; sign in with a person's token",
                        fix="an admin issues a person's token with `cohear users token "
                            "NAME`", code="worker-token")
    return user
