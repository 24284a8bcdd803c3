"""Signing in to the TUI: the same API token and the same role table as the web API,
so a person may do in the terminal exactly what they may do over HTTP.
"""

from __future__ import annotations

import os

from cohear.auth import User, authenticate
from cohear.errors import Unauthorized
from cohear.store import Store

TOKEN_ENV = "COHEAR_TOKEN"


def sign_in(store: Store, token: str | None = None) -> User:
    """The user a token belongs to: `token`, else the COHEAR_TOKEN environment variable."""
    token = (token or os.environ.get(TOKEN_ENV) or "").strip()
    if not token:
        raise Unauthorized("the review app needs your cohear token",
                           fix=f"pass --token TOKEN or set {TOKEN_ENV}; an admin issues one "
                               "with `cohear users token NAME`")
    return authenticate(store, token)
