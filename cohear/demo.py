"""The demo workspace: one person per role (their tokens written to a private file in
the data directory), then whatever each domain's `demo.seed` adds (a sample message,
a survey, recordings). Running it again adds nothing twice."""

from __future__ import annotations

import importlib
import importlib.resources
import json
import os
from pathlib import Path

from cohear.auth import create_user, get_user, issue_token
from cohear.errors import NotFound
from cohear.store import Store

DEMO_PEOPLE = {
    "demo-admin": "admin",
    "demo-communicator": "communicator",
    "demo-collector": "collector",
    "demo-reviewer": "reviewer",
    "demo-researcher": "researcher",
}
SEEDERS = ("comms.demo", "surveys.demo", "speech.demo")
# Copy-model packs "translate" by returning the English: useful to try the review workflow
# offline, misleading anywhere else, so they are installed only when asked for.
COPY_PACK_SEEDER = "language_packs.demo"


def demo_recordings() -> list[Path]:
    root = importlib.resources.files("cohear") / "demo_data"
    return sorted(Path(str(p)) for p in root.iterdir() if p.name.endswith(".wav"))


def seed(store: Store, *, copy_packs: bool = False) -> dict:
    lines: list[str] = []
    tokens_path = store.settings.data_dir / "demo-tokens.json"
    tokens = json.loads(tokens_path.read_text()) if tokens_path.exists() else {}
    users = {}
    for name, role in DEMO_PEOPLE.items():
        try:
            users[role] = get_user(store, name)
            if name not in tokens:
                tokens[name] = {"role": role, "token": issue_token(store, name, label="demo")}
        except NotFound:
            user, token = create_user(store, name, role)
            users[role] = user
            tokens[name] = {"role": role, "token": token}
            lines.append(f"added {name} ({role})")
    fd = os.open(tokens_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(tokens, fh, indent=2)
    lines.append(f"demo tokens written to {tokens_path} (readable only by you)")
    for name in ((COPY_PACK_SEEDER,) if copy_packs else ()) + SEEDERS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        lines += module.seed(store, users)
    return {"lines": lines, "tokens_file": str(tokens_path), "users": users}
