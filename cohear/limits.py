"""Every bound on what people and files may send cohear, in one place: lengths of text
fields, counts of things in a structure (questions in a survey, choices in a question...)
and sizes of request bodies. README's "Limits" table lists the same numbers.

The API's request models and the services (which the CLI, the TUI and imports such as
XLSForm and codebook files go through) read their bounds from here. A field over its
length, or a list with too many items in a request body, is a 422 from the request
model; a structure that a service finds too big (an XLSForm with more questions than a
survey may hold) is a 413. Either way nothing is written.

Bounds are on what is *added*: a survey made before a bound existed still loads, lists
and collects answers, but cannot grow (no more questions, no new version of it).
"""

from __future__ import annotations

from cohear.errors import TooLarge

# -- text fields, in characters ------------------------------------------------------------
USER_NAME_CHARS = 100           # a person's user name
TITLE_CHARS = 200               # titles and names: messages, surveys, codebooks, codes
AUDIENCE_CHARS = 200            # who a message is for
TAG_CHARS = 50                  # one tag of a message
LANGUAGE_TAG_CHARS = 35         # a BCP-47 tag (RFC 5646's longest useful tag)
SURVEY_PURPOSE_CHARS = 2_000
QUESTION_NAME_CHARS = 64        # a question's short name (letters, digits, _ . -)
QUESTION_TEXT_CHARS = 4_000     # a question's words, in one language
CHOICE_VALUE_CHARS = 200        # a choice's stored value
CHOICE_LABEL_CHARS = 500        # a choice's or scale point's label, in one language
MESSAGE_SOURCE_CHARS = 5_000    # a health message's source text (a long letter)
TRANSLATION_CHARS = 20_000      # one translation of a message
GLOSSARY_TERM_CHARS = 100
GLOSSARY_TRANSLATION_CHARS = 200
NOTE_CHARS = 2_000              # safeguarding reasons, handling notes, glossary and correction notes
MEMO_CHARS = 10_000             # a memo on an answer or a code
CODE_DESCRIPTION_CHARS = 4_000
CONTACT_CHARS = 500             # a respondent's contact details
TYPED_ANSWER_CHARS = 5_000      # a typed answer, on every route, and a correction of one
ANSWER_TEXT_CHARS = 200_000     # a whole transcript or its correction (30 minutes of speech)
SEGMENT_TEXT_CHARS = 20_000     # one corrected transcript segment
PROMPT_CHARS = 2_000            # a Whisper prompt on the OpenAI-compatible routes

# -- counts ---------------------------------------------------------------------------------
QUESTIONS_PER_SURVEY = 500
CHOICES_PER_QUESTION = 500
OPTIONS_PER_QUESTION = 20       # keys of a question's options (choices, min, max, labels...)
LANGUAGES_PER_SURVEY = 50       # target languages, and translations given with a question
TAGS_PER_MESSAGE = 20
CODES_PER_CODEBOOK = 5_000
LANGUAGES_PER_REQUEST = 50      # languages to translate into, or to ask translators for
MESSAGES_PER_REQUEST = 5_000    # messages translated in one request
SEGMENTS_PER_CORRECTION = 10_000
TEXTS_PER_TRANSLATION = 500     # texts in one LibreTranslate-compatible request
SESSIONS_PER_STATUS = 200       # sessions one field-page status check asks about
XLSFORM_SURVEY_ROWS = 2_000     # rows of an XLSForm's survey sheet (questions, groups, notes)
XLSFORM_CHOICE_ROWS = 20_000    # rows of an XLSForm's choices sheet

# -- bodies and files -----------------------------------------------------------------------
JSON_BODY_BYTES = 4 * 1024 * 1024          # a JSON request body (files have their own limits)
PACK_METADATA_BYTES = 1024 * 1024          # a language pack's metadata.json
PACK_METADATA_DEPTH = 32                   # nesting of objects and lists in it
PACK_MEMBER_NAME_BYTES = 255               # one file or folder name inside a pack (UTF-8)
PACK_MEMBER_PATH_CHARS = 1_024             # a whole path inside a pack
PACK_COMPRESSION_RATIO = 100               # unpacked bytes per packed byte, per file and in all
PACK_UNPACKED_FLOOR_BYTES = 64 * 1024 * 1024  # a small pack may always unpack to this much

# -- documents to translate (LibreTranslate's /translate_file, HTML texts) --------------------
# Checked while they are parsed, by a parser that is linear in its input (libxml2), before
# any other parser (html5ever, whose tree building grows with the square of the depth)
# or any tree of them is made.
DOCUMENT_DEPTH = 100                       # nesting of elements: HTML, a DOCX or ODT part
HTML_ELEMENTS = 10_000                     # elements of one HTML file or text (a long
                                           # leaflet has hundreds)
DOCUMENT_XML_ELEMENTS = 200_000            # elements of the XML parts read of one DOCX/ODT
HTML_ATTRIBUTES_PER_ELEMENT = 100          # html5ever takes seconds over one element with
                                           # 200,000 (an element needs a handful)
HTML_ATTRIBUTES = 50_000                   # attributes of one HTML file or text, in all
HTML_REFERENCES = 100_000                  # character and entity references (&amp; &#1575;):
                                           # each is a character of text, so as many as
                                           # a file's words may hold (MAX_FILE_CHARS)


def check_count(what: str, count: int, limit: int, fix: str) -> None:
    """Refuse (413) a structure holding more than `limit` of something."""
    if count > limit:
        raise TooLarge(f"{what}: {count:,}, more than the limit of {limit:,}", fix=fix)


def check_chars(what: str, text: str, limit: int, fix: str | None = None) -> str:
    """Refuse (413) a text longer than `limit` characters; returns the text."""
    if len(text) > limit:
        raise TooLarge(f"{what} is {len(text):,} characters; the limit is {limit:,}",
                       fix=fix or "shorten it")
    return text
