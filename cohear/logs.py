"""What cohear writes about failures, in its logs and in job records: a reference, a
category and ids, never people's words.

An exception's message often quotes its input (a library's `ValueError` repeats the
text it could not handle, an XML writer the string it refused), and that input may be
an answer, a transcript or a name. So nothing here ever writes `str(exc)`: a failure is
described by its category (cohear's problem title, or the exception's class), a
reference to match the log line with what the person saw, and the places in the code it
passed through (file, line, function; no values). The log formatter installed by
`configure()` does the same for every library's log lines: exception messages and
exceptions passed as arguments are replaced by their category, and query strings are
cut from uvicorn's access log (a LibreTranslate client may put `q=` words there).
"""

from __future__ import annotations

import logging
import secrets
import traceback
from types import TracebackType
from typing import Any

from cohear.errors import CohearError, ModelError, SettingsError, StoreError

# Errors about the machine (storage, models, settings), never about people's data: their
# message is kept in job records, as it says what an admin has to fix.
SYSTEM_ERRORS = (StoreError, ModelError, SettingsError)
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def reference() -> str:
    """A short random reference a person can quote and an admin can find in the log."""
    return secrets.token_hex(6)


def category(exc: BaseException) -> str:
    """What kind of failure, in words that carry no input: a cohear problem's title and
    status, or the exception's class."""
    if isinstance(exc, CohearError):
        return f"{exc.title} ({exc.status})"
    kind = type(exc)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def summary(exc: BaseException) -> str:
    """One line for a job record: the category, and for a problem with the machine
    (storage, models, settings) what it said, which names paths and models only."""
    if isinstance(exc, SYSTEM_ERRORS):
        return f"{category(exc)}: {exc.message()}"
    return category(exc)


def frames(exc: BaseException | None, tb: TracebackType | None = None) -> str:
    """Where the failure went through the code (files, lines, functions) for each
    exception in the chain, with the exceptions' categories and none of their messages."""
    out: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        stack = traceback.extract_tb(tb or exc.__traceback__)
        part = [f"  {f.filename}:{f.lineno} in {f.name}" for f in stack]
        out = [f"{category(exc)} (message left out)", *part, *out]
        nxt = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        if nxt is not None:
            out.insert(0, "The above was the direct cause of:" if exc.__cause__ is not None
                       else "While handling the above, this happened:")
        exc, tb = nxt, None
    return "\n".join(out)


class WordFreeFormatter(logging.Formatter):
    """A formatter that never prints an exception's message: tracebacks are frames and
    categories only, and an exception passed as a log argument prints as its category."""

    def format(self, record: logging.LogRecord) -> str:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            if any(isinstance(a, BaseException) for a in args):
                record.args = tuple(category(a) if isinstance(a, BaseException) else a
                                    for a in args)
        record.exc_text = None
        return super().format(record)

    def formatException(self, ei) -> str:  # noqa: N802 - logging's own name
        return "Traceback, messages left out:\n" + frames(ei[1], ei[2])


class NoQueryStrings(logging.Filter):
    """uvicorn's access log line without the query string (it can carry words and keys)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def configure(level: str | int = "INFO") -> None:
    """Every log line of this process goes through the word-free formatter."""
    handler = logging.StreamHandler()
    handler.setFormatter(WordFreeFormatter(FORMAT))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper() if isinstance(level, str) else level)


def uvicorn_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's logging, through the word-free formatter, access lines without queries."""
    fmt = {"()": "cohear.logs.WordFreeFormatter", "fmt": FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"no_query": {"()": "cohear.logs.NoQueryStrings"}},
        "formatters": {"default": fmt, "access": fmt},
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "default",
                        "stream": "ext://sys.stderr"},
            "access": {"class": "logging.StreamHandler", "formatter": "access",
                       "filters": ["no_query"], "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "": {"handlers": ["default"], "level": level.upper()},
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": ["access"], "level": level.upper(),
                               "propagate": False},
        },
    }
