"""Demo translation packs for `cohear demo --copy-packs`: copy-model packs (they return
the English unchanged) so the translation workflow can be tried offline; named as such.

Real packs replace them with `cohear packs install FILE` (same direction, new version).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from cohear.auth import User
from cohear.store import Store
from language_packs.copy_pack import build_copy_pack
from language_packs.packs import find_pack, install

# The version says what the pack is wherever the engine's name for it is shown.
DEMO_VERSION = "0.0-demo-copy"
DEMO_PAIRS = [("en", "ur"), ("en", "pl"), ("en", "bn"), ("ur", "en")]


def seed(store: Store, users: dict[str, User]) -> list[str]:
    """Install the demo packs that are missing (an installed real pack is left alone)."""
    from language_packs.registry import from_argos

    lines = []
    actor = users.get("admin")
    with tempfile.TemporaryDirectory(prefix="cohear-demo-packs-") as tmp:
        for src, dst in DEMO_PAIRS:
            if find_pack(store, from_argos(src), from_argos(dst)) is not None:
                continue
            path = build_copy_pack(Path(tmp), src, dst, package_version=DEMO_VERSION)
            kwargs = {"actor": actor} if actor else {}
            [info] = install(store, path, **kwargs)
            lines.append(f"installed demo pack {info['name']} {DEMO_VERSION} (copies its "
                         "input; install a real Argos pack for real translations)")
    return lines
