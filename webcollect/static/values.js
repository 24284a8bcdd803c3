// Number, date and time answers on the field page: reading what a leader typed (in any
// of the region's digits) and checking it against the question's format and range
// before it is saved, the same rules the server applies again (surveys/values.py).
//
// The checks return a problem (a key of the page's own strings and its values), never
// English, so app.js says it in the page's language.

// Digits other than 0-9 that a leader's keyboard may give: Arabic-Indic (٠-٩),
// Eastern Arabic-Indic as Urdu and Persian keyboards type them (۰-۹), Devanagari,
// Bengali, Gurmukhi and Gujarati. Each block runs from its zero to its nine.
const DIGIT_ZEROS = [0x0660, 0x06f0, 0x0966, 0x09e6, 0x0a66, 0x0ae6];
const OTHER_DIGITS = /[\u0660-\u0669\u06f0-\u06f9\u0966-\u096f\u09e6-\u09ef\u0a66-\u0a6f\u0ae6-\u0aef]/g;
// Invisible direction marks an Urdu keyboard can leave around a number, and spaces.
const INVISIBLE = /[\s\u200e\u200f\u061c\u2066-\u2069]/g;

const INTEGER = /^[+-]?[0-9]{1,30}$/;
const DECIMAL = /^[+-]?(?:[0-9]{1,30}(?:[.,][0-9]{0,30})?|[.,][0-9]{1,30})$/;
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const TIME = /^([01]?[0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?$/;

export const VALUE_KINDS = ["integer", "decimal", "date", "time"];

// The typed value with ASCII digits, a point for the Arabic decimal separator (٫), an
// ASCII minus, and nothing invisible: what is checked, kept and sent.
export function asciiDigits(text) {
  return String(text ?? "")
    .replace(INVISIBLE, "")
    .replace(OTHER_DIGITS, (c) => {
      const code = c.codePointAt(0);
      const zero = DIGIT_ZEROS.find((z) => code >= z && code <= z + 9);
      return String(code - zero);
    })
    .replace(/\u066b/g, ".")
    .replace(/\u2212/g, "-");
}

// The phone's own date today, as YYYY-MM-DD (a date bound of "today").
export function todayOnPhone(now = new Date()) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

// A question's bound ("min" or "max") in the form its answers are compared in.
export function bound(question, which) {
  const value = question[which];
  if (value === null || value === undefined || value === "") return null;
  if (question.kind === "date" && value === "today") return todayOnPhone();
  if (question.kind === "time") return seconds(String(value));
  return String(value);
}

function seconds(time) {
  const m = TIME.exec(time);
  return m ? `${m[1].padStart(2, "0")}:${m[2]}:${m[3] || "00"}` : null;
}

// Compare two decimal numbers written as strings, exactly (no float rounding at a
// bound): -1, 0 or 1.
export function compareNumbers(a, b) {
  if (/e/i.test(a) || /e/i.test(b)) return Math.sign(Number(a) - Number(b));
  const parse = (s) => {
    const negative = s.startsWith("-");
    const [whole, part = ""] = s.replace(/^[+-]/, "").replace(",", ".").split(".");
    return { negative, whole: whole.replace(/^0+/, ""), part: part.replace(/0+$/, "") };
  };
  const x = parse(a);
  const y = parse(b);
  const zero = (n) => !n.whole && !n.part;
  if (zero(x) && zero(y)) return 0;
  const signX = zero(x) ? 0 : (x.negative ? -1 : 1);
  const signY = zero(y) ? 0 : (y.negative ? -1 : 1);
  if (signX !== signY) return Math.sign(signX - signY);
  let size = 0;
  if (x.whole.length !== y.whole.length) size = x.whole.length > y.whole.length ? 1 : -1;
  else if (x.whole !== y.whole) size = x.whole > y.whole ? 1 : -1;
  else {
    const width = Math.max(x.part.length, y.part.length);
    const px = x.part.padEnd(width, "0");
    const py = y.part.padEnd(width, "0");
    size = px === py ? 0 : (px > py ? 1 : -1);
  }
  return signX * size;
}

function compare(kind, a, b) {
  if (kind === "integer" || kind === "decimal") return compareNumbers(a, b);
  return a === b ? 0 : (a > b ? 1 : -1);  // YYYY-MM-DD and HH:MM:SS sort as text
}

function realDate(text) {
  const m = DATE.exec(text);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day;
}

const NOT_IN_FORMAT = { integer: "value_not_whole", decimal: "value_not_number",
                        date: "value_not_date", time: "value_not_time" };

// {value} (what to keep and send) or {problem, which} for what was typed: `problem` is
// a string key; `which` is "min" or "max" for an answer outside the range.
export function checkValue(question, typed) {
  const kind = question.kind;
  let value = asciiDigits(typed);
  if (kind === "time" && TIME.test(value)) value = value.replace(/^([0-9]):/, "0$1:");
  const fits = { integer: INTEGER, decimal: DECIMAL, date: DATE, time: TIME }[kind];
  if (!fits || !fits.test(value) || (kind === "date" && !realDate(value))) {
    return { problem: NOT_IN_FORMAT[kind] || "value_not_number" };
  }
  const compared = kind === "time" ? seconds(value) : value;
  const low = bound(question, "min");
  const high = bound(question, "max");
  if (low !== null && compare(kind, compared, low) < 0) return { problem: "out_of_range", which: "min" };
  if (high !== null && compare(kind, compared, high) > 0) return { problem: "out_of_range", which: "max" };
  return { value };
}
