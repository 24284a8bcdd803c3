"""The field page's own interface text, kept as comms messages so it goes through the
same translation workflow as any health message: one message per string, tagged
`collect-page`, with human translations received and approved per language.

`interface_text.json` holds the English source and the translations cohear ships
with; they are seeded into comms once. The page shows, per language, the approved
translation of each string's current version, else the English text.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from importlib import resources

from cohear.auth import SYSTEM
from cohear.errors import BadInput
from cohear.store import Store

TAG = "collect-page"
TITLE = "Field page: "
INTERFACE_LANGUAGES = ("en", "ur", "bn", "pa-Guru", "pl")
_seed_lock = threading.Lock()
_seeded: set[str] = set()


@lru_cache(maxsize=1)
def shipped() -> dict[str, dict[str, str]]:
    """language -> key -> text, as shipped in interface_text.json."""
    path = resources.files("webcollect") / "interface_text.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _comms():
    try:
        from comms import service
    except ModuleNotFoundError:
        return None
    return service


def _messages(comms, store: Store) -> dict[str, dict]:
    return {m["title"][len(TITLE):]: m for m in comms.list_messages(store, tag=TAG, limit=5000)
            if m["title"].startswith(TITLE)}


def seed(store: Store) -> dict:
    """Put every shipped string into comms: a message per string, and the shipped
    translations as received human translations, approved. A string whose English
    changed gets a new message version and the shipped translations of it. Text a
    reviewer has already put in comms is never overwritten. Running it again adds
    nothing."""
    comms = _comms()
    if comms is None:
        return {"created": 0, "translated": 0}
    source = shipped()
    existing = _messages(comms, store)
    created = translated = 0
    for key, english in source["en"].items():
        message = existing.get(key)
        changed = False
        if message is None:
            message = comms.create_message(
                store, SYSTEM, title=TITLE + key, source_text=english, channel="phone_script",
                audience="community leaders using the field-capture page", tags=[TAG])
            created += 1
        elif message["source_text"] != english:
            message = comms.edit_message(store, SYSTEM, message["id"], source_text=english)
            changed = True
        have = message["translations"]
        todo = [lang for lang in INTERFACE_LANGUAGES[1:]
                if key in source.get(lang, {}) and (lang not in have or changed)]
        if not todo:
            continue
        comms.request_human(store, SYSTEM, message["id"], todo)
        for lang in todo:
            comms.edit_translation(store, SYSTEM, message["id"], lang, source[lang][key])
            comms.approve_translation(store, SYSTEM, message["id"], lang)
            translated += 1
    return {"created": created, "translated": translated}


def ensure_seeded(store: Store) -> None:
    """Seed once per data directory per process; cheap after the first call."""
    where = str(store.path)
    if where in _seeded:
        return
    with _seed_lock:
        if where not in _seeded:
            seed(store)
            _seeded.add(where)


def interface_text(store: Store, language: str) -> dict:
    """{"language", "direction", "strings": key -> text, "approved": keys in `language`}."""
    if language not in INTERFACE_LANGUAGES:
        raise BadInput(f"the page is not offered in {language!r}",
                       fix="choose one of: " + ", ".join(INTERFACE_LANGUAGES))
    direction = "rtl" if language in ("ur", "pa-Arab", "ar") else "ltr"
    comms = _comms()
    if comms is None:
        # Without comms there is no review workflow: the shipped text is all there is.
        strings = shipped()["en"] | shipped().get(language, {})
        return {"language": language, "direction": direction, "strings": strings,
                "approved": sorted(shipped().get(language, {})), "source": "shipped"}
    ensure_seeded(store)
    strings, approved = {}, []
    for key, message in _messages(comms, store).items():
        strings[key] = message["source_text"]
        if language != "en" and message["translations"].get(language) == "approved":
            strings[key] = comms.get_translation(store, message["id"], language)["text"]
            approved.append(key)
    for key, english in shipped()["en"].items():
        strings.setdefault(key, english)
    return {"language": language, "direction": direction, "strings": strings,
            "approved": sorted(approved), "source": "comms"}
