"""Who may do what: one table from action to the roles allowed, used by the API,
the CLI and the TUI alike, so a role is checked the same way everywhere.

A second table says which of those roles reach only what they hold themselves
(`OWN_ONLY`): a collector may run sessions, but only their own; the services read
it through `limited_to_own`, and anything outside a limited role's own is answered
as if it did not exist (404), so its existence is not revealed either.
"""

from __future__ import annotations

from collections.abc import Mapping

# People's roles, and `worker`: the role of a transcription worker on another machine,
# whose tokens may only run the jobs leased to them (see cohear/workers.py).
PEOPLE = ("admin", "communicator", "collector", "reviewer", "researcher")
ROLES = PEOPLE + ("worker",)

ALL = frozenset(PEOPLE)  # every person; never a worker
STAFF = frozenset({"admin", "communicator", "reviewer", "researcher"})

# action -> roles allowed. Domains add their own actions with `register`.
PERMISSIONS: dict[str, frozenset[str]] = {
    "me.read": ALL,
    "users.manage": frozenset({"admin"}),
    "audit.read": frozenset({"admin"}),
    "jobs.read": ALL,
    "jobs.read_all": STAFF,
    "jobs.cancel": frozenset({"admin"}),
    "system.check": frozenset({"admin"}),
    "models.read": STAFF,
    # A worker's whole world: the jobs leased to it (claim, its audio, renew, complete, fail).
    "worker.run": frozenset({"worker"}),
    "workers.read": frozenset({"admin"}),
}

# action -> roles that may do it only to what they hold (created, run or uploaded).
OWN_ONLY: dict[str, frozenset[str]] = {
    "jobs.read": frozenset({"collector"}),  # jobs they started
}


def register(actions: Mapping[str, set[str] | frozenset[str]], *,
             own_only: Mapping[str, set[str] | frozenset[str]] | None = None) -> None:
    """Add a domain's actions; `own_only` names, per action, the roles limited to their own."""
    for action, roles in actions.items():
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles {unknown} for action {action}")
        PERMISSIONS[action] = frozenset(roles)
    for action, roles in (own_only or {}).items():
        if not set(roles) <= PERMISSIONS.get(action, frozenset()):
            raise ValueError(f"own-only roles {set(roles)} of {action} are not allowed it at all")
        OWN_ONLY[action] = frozenset(roles)


def allowed(role: str, action: str) -> bool:
    return role in PERMISSIONS[action]


def limited_to_own(role: str, action: str) -> bool:
    """True when `role` may do `action` only to what it holds itself."""
    return role in OWN_ONLY.get(action, frozenset())


def who_may(action: str) -> str:
    roles = sorted(PERMISSIONS[action])
    return roles[0] if len(roles) == 1 else ", ".join(roles[:-1]) + " or " + roles[-1]
