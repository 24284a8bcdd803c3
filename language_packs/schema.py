"""What the language and pack routes answer with (pydantic models at the edge). The
LibreTranslate-compatible routes answer in LibreTranslate's own shapes
(`language_packs/libretranslate.py`); their errors are `{"error": "..."}`."""

from __future__ import annotations

from cohear.schema import Out


class LanguageOut(Out):
    tag: str
    english_name: str
    native_name: str
    script: str
    direction: str
    speech_recognition: bool
    translation: str


class PackOut(Out):
    name: str
    from_code: str
    to_code: str
    source_tag: str
    target_tag: str
    package_version: str
    archive_sha256: str
    size_bytes: int
    installed_at: str
    present: bool


class PackInstalledOut(Out):
    name: str
    source: str
    target: str
    version: str


class PackRemovedOut(Out):
    name: str
    source: str
    target: str


LIBRETRANSLATE_ERROR = {"content": {"application/json": {"schema": {
    "type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}}}}
