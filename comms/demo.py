"""The demo's health message: a plain-language flu vaccine invitation by SMS, with a
human translation into Punjabi (Gurmukhi) requested. Running it twice adds nothing."""

from __future__ import annotations

from cohear.store import Store
from comms import service

TITLE = "Flu vaccine invitation (demo)"
TEXT = ("Hello {first_name}, you can have a free flu vaccine this winter. "
        "It helps protect you and your family. "
        "Book at your GP surgery or a local pharmacy, or call 0121 496 0000. "
        "More at https://www.nhs.uk/flu.")


def seed(store: Store, users: dict) -> list[str]:
    existing = store.one("SELECT id FROM messages WHERE title = ?", (TITLE,))
    if existing:
        return [f"message {existing['id']} ({TITLE}) already there"]
    author = users.get("communicator") or next(iter(users.values()))
    message = service.create_message(store, author, title=TITLE, source_text=TEXT,
                                     channel="sms", audience="adults aged 65 and over",
                                     tags=["flu", "vaccination", "winter"])
    service.request_human(store, author, message["id"], ["pa-Guru"])
    return [f"added message {message['id']} ({TITLE}), Punjabi translation requested"]
