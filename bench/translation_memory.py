"""Translation memory: how much faster a repeat run is once sentences are approved.

Builds copy-model Argos packs (en <-> five languages), translates 200 messages into
five languages (engine + back-translation), approves everything, then translates 200
new messages with the same sentences, which come from memory. Prints both rates and
the ratio; the target is at least 20x.

    python bench/translation_memory.py [--messages 200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from cohear.auth import create_user
from cohear.settings import load_settings
from cohear.store import Store
from comms import service
from language_packs.copy_pack import build_copy_pack
from language_packs.packs import install

LANGUAGES = ["ur", "pl", "bn", "ar", "fa"]
TARGET_RATIO = 20

OPENINGS = ["You can have a free flu vaccine", "Your child can have the MMR vaccine",
            "Book a health check", "Ask for a free interpreter", "Collect your medicines"]
PLACES = ["at your GP surgery", "at a local pharmacy", "at the community health day",
          "at the walk-in centre"]
CLOSINGS = ["Call 0121 496 0000 to book.", "Bring your red book.",
            "Tell us which language you speak.", "It is free and confidential."]


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def message_texts(count: int) -> list[str]:
    """Distinct messages, as a real campaign has: a shared greeting and closing, and two
    sentences of their own (a date and a reference), so the engine's own reuse of
    repeated sentences within one batch does not stand in for translation memory."""
    texts = []
    for i in range(count):
        when = f"{1 + i % 28} {MONTHS[(i // 28) % 12]}"
        first = f"{OPENINGS[i % 5]} {PLACES[(i // 5) % 4]} from {when}."
        texts.append(f"Hello {{first_name}}. {first} {CLOSINGS[(i // 20) % 4]} "
                     f"Your reference is {1000 + i}.")
    return texts


def translate_all(store: Store, actor, texts: list[str], label: str) -> tuple[float, list[int]]:
    ids = [service.create_message(store, actor, title=f"{label} {i}", source_text=t,
                                  channel="sms")["id"] for i, t in enumerate(texts)]
    start = time.perf_counter()
    result = service.translate_messages(store, actor, ids, LANGUAGES)
    elapsed = time.perf_counter() - start
    assert len(result["translated"]) == len(ids) * len(LANGUAGES)
    return elapsed, ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cohear-bench-") as tmp:
        root = Path(tmp)
        packs = root / "packs"
        packs.mkdir()
        store = Store(load_settings(env={}, data_dir=root / "data"))
        store.migrate()
        for lang in LANGUAGES:
            install(store, build_copy_pack(packs, "en", lang))
            install(store, build_copy_pack(packs, lang, "en"))
        communicator, _ = create_user(store, "bench-communicator", "communicator")
        reviewer, _ = create_user(store, "bench-reviewer", "reviewer")
        texts = message_texts(args.messages)
        pairs = len(texts) * len(LANGUAGES)

        first, ids = translate_all(store, communicator, texts, "first")
        for mid in ids:
            for lang in LANGUAGES:
                service.approve_translation(store, reviewer, mid, lang)
        repeat, again = translate_all(store, communicator, texts, "repeat")
        reused = store.one("SELECT count(*) FROM translations WHERE origin = 'memory' "
                           "AND message_id >= ?", (again[0],))[0]
        store.close()

    ratio = first / repeat
    print(f"messages x languages: {len(texts)} x {len(LANGUAGES)} = {pairs} translations")
    print(f"first run  (engine + back-translation): {first:7.2f} s  {pairs / first:8.1f} per s")
    print(f"repeat run (translation memory):        {repeat:7.2f} s  {pairs / repeat:8.1f} per s"
          f"  ({reused} of {pairs} wholly from memory)")
    print(f"ratio: {ratio:.1f}x (target: at least {TARGET_RATIO}x)")
    return 0 if ratio >= TARGET_RATIO and reused == pairs else 1


if __name__ == "__main__":
    sys.exit(main())
