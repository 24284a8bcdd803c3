"""Number, date and time questions (`integer`, `decimal`, `date`, `time`): the formats an
answer may take, the ranges a question may set, and the simple XLSForm constraints
(`. >= 0 and . <= 120`, `. <= today()`) that are such a range.

Formats: integer `-?[0-9]+`; decimal with a dot or one comma as the separator (`36.6`,
`36,6`), never an exponent, NaN or infinity; date ISO 8601 `YYYY-MM-DD`; time 24-hour
`HH:MM` or `HH:MM:SS`. A stored answer is the canonical string (`36.6`, `2026-03-01`,
`08:05`), so every export writes the same value. A date bound may be `today`, resolved
on the day the answer arrives (on the server's clock).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from cohear.errors import BadInput, Unprocessable

VALUE_KINDS = ("integer", "decimal", "date", "time")
FORMATS = {
    "integer": "a whole number, e.g. 42",
    "decimal": "a number with a dot (or a comma) before any decimals, e.g. 36.6",
    "date": "a date written YYYY-MM-DD, e.g. 2026-03-01",
    "time": "a 24-hour time written HH:MM, e.g. 14:30",
}
# The format the field page asks for: numbers in a text box with inputmode numeric or
# decimal (type=number changes on a scroll and reads commas by the phone's locale), dates
# and times in <input type="date"> and <input type="time">, whose values are these forms.
INPUT_FORMATS = {"integer": "integer", "decimal": "decimal", "date": "YYYY-MM-DD",
                 "time": "HH:MM"}
MAX_DIGITS = 30  # a number with more digits than this is not an answer anyone gave

_INTEGER = re.compile(r"^[+-]?[0-9]{1,30}$")
_DECIMAL = re.compile(r"^[+-]?(?:[0-9]{1,30}(?:[.,][0-9]{0,30})?|[.,][0-9]{1,30})$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?$")


def parse(kind: str, raw: object) -> int | Decimal | dt.date | dt.time:
    """The value of an answer in `kind`'s format; ValueError when it is not one."""
    text = str(raw).strip() if raw is not None else ""
    if kind == "integer":
        if not _INTEGER.match(text):
            raise ValueError(text)
        return int(text)
    if kind == "decimal":
        if not _DECIMAL.match(text):
            raise ValueError(text)
        try:
            return Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise ValueError(text) from None
    if kind == "date":
        if not _DATE.match(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    if kind == "time":
        m = _TIME.match(text)
        if not m:
            raise ValueError(text)
        return dt.time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
    raise ValueError(kind)


def canonical(kind: str, value: int | Decimal | dt.date | dt.time) -> str:
    """The stored and exported spelling of a value."""
    if kind == "decimal":
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("-0", "+0", "") else text
    if kind == "time":
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    return str(value)


def _bound(kind: str, raw: object, which: str, today: dt.date | None = None):
    if raw is None:
        return None
    if kind == "date" and raw == "today":
        return today or dt.date.today()
    return parse(kind, raw)


def normalise_range(kind: str, options: dict) -> dict:
    """The stored options of a number, date or time question: `min` and `max` (either may
    be absent) in the kind's own format. BadInput when they are not."""
    out: dict = {}
    for which in ("min", "max"):
        raw = options.get(which)
        if raw is None or raw == "":
            continue
        if isinstance(raw, bool) or (kind in ("date", "time") and not isinstance(raw, str)):
            raise BadInput(f"the {which} of a {kind} question must be {FORMATS[kind]}",
                           fix=f"give {which} as {FORMATS[kind]}"
                               + (" or 'today'" if kind == "date" else ""))
        try:
            value = _bound(kind, raw, which)
        except ValueError:
            raise BadInput(f"the {which} of a {kind} question must be {FORMATS[kind]}, "
                           f"not {raw!r}", fix=f"give {which} as {FORMATS[kind]}"
                           + (" or 'today'" if kind == "date" else "")) from None
        if kind == "date" and raw == "today":
            out[which] = "today"
        elif kind == "integer":
            out[which] = value
        elif kind == "decimal":
            out[which] = float(value) if value != value.to_integral_value() else int(value)
        else:
            out[which] = canonical(kind, value)
    if "min" in out and "max" in out and "today" not in (out["min"], out["max"]):
        low, high = _bound(kind, out["min"], "min"), _bound(kind, out["max"], "max")
        if kind == "decimal":
            low, high = Decimal(str(low)), Decimal(str(high))
        if low > high:
            raise BadInput(f"the range of a {kind} question runs from {out['min']} to "
                           f"{out['max']}, which is empty", fix="put the smaller bound in min")
    return out


def describe_range(kind: str, options: dict) -> str:
    """'integer from 0 to 120', 'date up to today': the data dictionary's words."""
    low, high = options.get("min"), options.get("max")
    if low is not None and high is not None:
        span = f" from {low} to {high}"
    elif low is not None:
        span = f" from {low}"
    elif high is not None:
        span = f" up to {high}"
    else:
        span = ""
    return f"{kind}{span} ({FORMATS[kind]})"


def check_answer(kind: str, options: dict, raw: object, name: str,
                 today: dt.date | None = None) -> str:
    """The canonical value of an answer to a number, date or time question, or a 422
    naming the question, the format and the range (never the answer itself: it is the
    respondent's words), with the code `answer-format` or `answer-out-of-range` so the
    field page can say which in the leader's language."""
    try:
        value = parse(kind, raw)
    except ValueError:
        raise Unprocessable(f"the answer to question {name!r} is not {FORMATS[kind]}",
                            fix=f"answer with {FORMATS[kind]}", code="answer-format") from None
    low, high = (_bound(kind, options.get(k), k, today) for k in ("min", "max"))
    if kind == "decimal":
        low = Decimal(str(low)) if low is not None else None
        high = Decimal(str(high)) if high is not None else None
    if (low is not None and value < low) or (high is not None and value > high):
        raise Unprocessable(f"the answer to question {name!r} is outside its range",
                            fix="answer with " + describe_range(kind, {
                                k: options.get(k) for k in ("min", "max")}),
                            code="answer-out-of-range")
    return canonical(kind, value)


# -- XLSForm constraints that are a range ------------------------------------------------

_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_OPERAND = (rf"(?P<number>{_NUMBER})|date\(\s*'(?P<date>[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})'\s*\)"
            r"|(?P<today>today\(\s*\))|'(?P<time>[0-9]{2}:[0-9]{2}(?::[0-9]{2})?)'")
_SELF = r"(?:\.|format-date-time\(\s*\.\s*,\s*'%H:%M(?::%S)?'\s*\))"
_COMPARISON = re.compile(rf"^\s*{_SELF}\s*(?P<op><=|>=|<|>|=)\s*(?:{_OPERAND})\s*$")


def range_from_constraint(kind: str, constraint: str) -> dict | None:
    """{"min": .., "max": ..} when an XLSForm constraint is only bounds on the answer
    itself (`. >= 0 and . <= 120`, `. > 15`, `. <= today()`); None otherwise, so the
    caller reports it. A strict bound on an integer becomes the next whole number; a
    strict bound on any other kind is not a range cohear can hold (reported)."""
    parts = re.split(r"\s+and\s+", (constraint or "").strip())
    if not parts or len(parts) > 2:
        return None
    out: dict = {}
    for part in parts:
        m = _COMPARISON.match(part)
        if not m:
            return None
        op = m.group("op")
        if kind in ("integer", "decimal") and m.group("number") is not None:
            number = Decimal(m.group("number"))
            if kind == "integer":
                if number != number.to_integral_value():
                    return None
                number = int(number)
                if op == ">":
                    number, op = number + 1, ">="
                elif op == "<":
                    number, op = number - 1, "<="
            elif op in ("<", ">"):
                return None
            value: object = number if kind == "integer" else (
                int(number) if number == number.to_integral_value() else float(number))
        elif kind == "date" and (m.group("date") or m.group("today")):
            if op in ("<", ">"):
                return None
            value = m.group("date") or "today"
        elif kind == "time" and m.group("time"):
            if op in ("<", ">"):
                return None
            value = m.group("time")
        else:
            return None
        targets = {"<=": ("max",), "<": ("max",), ">=": ("min",), ">": ("min",),
                   "=": ("min", "max")}[op]
        for target in targets:
            if target in out:
                return None
            out[target] = value
    try:
        return normalise_range(kind, out)
    except BadInput:
        return None


def range_to_constraint(kind: str, options: dict) -> str:
    """The XLSForm constraint for a question's range ('' when it has none)."""
    parts = []
    for which, op in (("min", ">="), ("max", "<=")):
        value = options.get(which)
        if value is None:
            continue
        if kind == "date":
            operand = "today()" if value == "today" else f"date('{value}')"
            parts.append(f". {op} {operand}")
        elif kind == "time":
            pattern = "%H:%M:%S" if len(value) > 5 else "%H:%M"
            parts.append(f"format-date-time(., '{pattern}') {op} '{value}'")
        else:
            parts.append(f". {op} {value}")
    return " and ".join(parts)
