"""Who may do what: one table from action to the roles allowed, used by the API,
the CLI and the TUI alike, so a role is checked the same way everywhere.
"""

from __future__ import annotations

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
    "jobs.read": ALL,               # collectors see only their own jobs (checked in the service)
    "jobs.read_all": STAFF,
    "jobs.cancel": frozenset({"admin"}),
    "system.check": frozenset({"admin"}),
    "models.read": STAFF,
    # A worker's whole world: the jobs leased to it (claim, its audio, renew, complete, fail).
    "worker.run": frozenset({"worker"}),
    "workers.read": frozenset({"admin"}),
}


def register(actions: dict[str, set[str] | frozenset[str]]) -> None:
    for action, roles in actions.items():
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles {unknown} for action {action}")
        PERMISSIONS[action] = frozenset(roles)


def allowed(role: str, action: str) -> bool:
    return role in PERMISSIONS[action]


def who_may(action: str) -> str:
    roles = sorted(PERMISSIONS[action])
    return roles[0] if len(roles) == 1 else ", ".join(roles[:-1]) + " or " + roles[-1]
