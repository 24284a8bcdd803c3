"""What leaves cohear for print, SMS and reporting: the coverage matrix (messages x
languages x status) as CSV or JSON, and an approved message as text or an HTML page.
"""

from __future__ import annotations

import html
import io
import re

from cohear import cells
from cohear.errors import Conflict
from cohear.store import Store
from comms import service


def coverage(store: Store, languages: list[str] | None = None) -> dict:
    """Each message's status in each language (`missing` where there is none). Without
    `languages`, every language any message has a translation in."""
    tags = ([service.language(t).tag for t in languages] if languages else
            [r["language"] for r in store.all(
                "SELECT DISTINCT language FROM translations ORDER BY language")])
    statuses: dict[int, dict[str, str]] = {}
    for r in store.all("SELECT t.message_id, t.language, t.status, t.source_version, "
                       "m.current_version FROM translations t JOIN messages m "
                       "ON m.id = t.message_id"):
        status = "stale" if r["source_version"] != r["current_version"] else r["status"]
        statuses.setdefault(r["message_id"], {})[r["language"]] = status
    rows = []
    for m in store.all("SELECT id, title, channel, current_version FROM messages ORDER BY id"):
        have = statuses.get(m["id"], {})
        rows.append({"message_id": m["id"], "title": m["title"], "channel": m["channel"],
                     "version": m["current_version"],
                     "statuses": {t: have.get(t, "missing") for t in tags}})
    totals = {t: {} for t in tags}
    for row in rows:
        for t, s in row["statuses"].items():
            totals[t][s] = totals[t].get(s, 0) + 1
    return {"languages": tags, "messages": rows, "totals": totals}


def coverage_csv(store: Store, languages: list[str] | None = None) -> str:
    data = coverage(store, languages)
    out = io.StringIO()
    # Every cell quoted and text that could run as a formula escaped (cohear.cells).
    writer = cells.csv_writer(out, lineterminator="\n")
    writer.writerow(["message_id", "title", "channel", "version", *data["languages"]])
    for row in data["messages"]:
        writer.writerow([row["message_id"], row["title"], row["channel"], row["version"],
                         *[row["statuses"][t] for t in data["languages"]]])
    return out.getvalue()


def approved_texts(store: Store, message_id: int, languages: list[str] | None = None
                   ) -> list[dict]:
    """The source and each approved translation of the current version, in order. Named
    languages must be approved; without names, every approved one."""
    message = service._message_row(store, message_id)
    src = service.language(message["source_language"])
    blocks = [{"language": src.tag, "name": src.english_name, "native_name": src.native_name,
               "direction": src.direction, "text": message["source_text"]}]
    rows = {r["language"]: r for r in store.all(
        "SELECT * FROM translations WHERE message_id = ? ORDER BY language", (message_id,))}
    wanted = [service.language(t).tag for t in languages] if languages else sorted(rows)
    for tag in wanted:
        if tag == src.tag:
            continue
        row = rows.get(tag)
        ok = (row is not None and row["status"] == "approved"
              and row["source_version"] == message["current_version"])
        if not ok:
            if languages:
                state = "missing" if row is None else row["status"]
                raise Conflict(f"the {tag} translation of message {message_id} is not approved "
                               f"({state})", fix="have a reviewer approve it, then export")
            continue
        lang = service.language(tag)
        blocks.append({"language": tag, "name": lang.english_name,
                       "native_name": lang.native_name, "direction": lang.direction,
                       "text": row["text"]})
    return blocks


def export_text(store: Store, message_id: int, lang: str) -> str:
    """One language's approved text, as plain text."""
    tag = service.language(lang).tag
    return approved_texts(store, message_id, [tag])[-1]["text"] + "\n"


def _paragraphs(text: str) -> str:
    parts = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "\n".join("<p>" + html.escape(p.strip()).replace("\n", "<br>") + "</p>" for p in parts)


def export_html(store: Store, message_id: int, languages: list[str] | None = None) -> str:
    """A printable page: the source and each approved translation, every block carrying
    its own `lang` and `dir` so browsers and screen readers treat it right."""
    message = service._message_row(store, message_id)
    blocks = approved_texts(store, message_id, languages)
    src = blocks[0]
    body = []
    for b in blocks:
        lang, d = html.escape(b["language"]), b["direction"]
        body.append(
            f'<section lang="{lang}" dir="{d}">\n'
            f'<h2 lang="{lang}" dir="{d}">{html.escape(b["native_name"])}</h2>\n'
            f'<p class="language" lang="en" dir="ltr">{html.escape(b["name"])}</p>\n'
            f'<div lang="{lang}" dir="{d}">\n{_paragraphs(b["text"])}\n</div>\n</section>')
    title = html.escape(message["title"])
    src_lang, src_dir = html.escape(src["language"]), src["direction"]
    return (f'<!DOCTYPE html>\n<html lang="{src_lang}" dir="{src_dir}">\n'
            f'<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;'
            'line-height:1.5}section{border-top:1px solid #ccc;padding:1em 0}'
            '.language{color:#555;font-size:.9em}</style>\n</head>\n'
            f'<body>\n<h1 lang="{src_lang}" dir="{src_dir}">{title}</h1>\n'
            + "\n".join(body) + "\n</body>\n</html>\n")
