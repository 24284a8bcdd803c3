// The field page: sign in, choose a survey and the respondent's language, record
// consent, then each answer; everything goes through the outbox (queue.js).
//
// Nothing a leader saves is dropped without a word: an action that cannot be done says
// why, leaving a question with an answer not yet saved asks first, signing out with
// items not yet sent warns, and everything the server refuses is said in the page's
// language (from the problem's stable `code`), with the unsent list kept in view.
//
// Number, date and time questions are checked on the phone (values.js) before they are
// saved; one the server refuses all the same (a phone's clock a day ahead lets it
// accept tomorrow under "up to today") shows as not accepted with the reason, and the
// leader changes it while the respondent is open. Once the respondent is finished on the
// phone, a refused answer can only be corrected by a reviewer.

import { fill, load, locale, pageLanguage, t } from "./i18n.js";
import { Outbox, newKey, openDatabase } from "./queue.js";
import { Recorder } from "./recorder.js";
import { VALUE_KINDS, asciiDigits, bound, checkValue } from "./values.js";

const $ = (id) => document.getElementById(id);
const TOKEN = "cohear.collect.token";
const ME = "cohear.collect.me";
const CURRENT = "cohear.collect.current.";   // + the collector's id: their open respondent
const SURVEYS = "cohear.collect.surveys";
const SCREENS = ["sign-in", "setup", "consent", "question", "finished"];

let me = null;              // {id, name, role} of the signed-in collector
let outbox = null;
let session = null;         // the respondent being interviewed, as kept in IndexedDB
let consentRecorder = null;
let answerRecorder = null;

function text(key, fallback, values) { return t(key, values) ?? fallback; }

function show(screen) {
  for (const id of SCREENS) $(id).hidden = id !== screen;
  const heading = $(screen).querySelector("h2");
  if (heading) heading.focus();
}

// Said once by screen readers (a polite live region), and shown until the next step.
function saved(key, fallback, values) {
  if (!key) { $("saved").replaceChildren(); return; }
  fill($("saved"), key, fallback, values);
}

function notice(key, fallback, values) {
  if (!key) {
    $("notice").replaceChildren();
    $("notice").hidden = true;
    return;
  }
  fill($("notice"), key, fallback, values);
  $("notice").hidden = false;
}

// -- what the server said, in the leader's words --------------------------------------

const PROBLEMS = {
  "token-expired": "Your sign-in has expired. Everything you saved is safe on this phone. Ask your coordinator for a new sign-in link, then sign in again to send it.",
  "token-revoked": "Your sign-in was stopped. Everything you saved is safe on this phone. Ask your coordinator for a new sign-in link.",
  "token-invalid": "This sign-in code is not right. Check it, or ask your coordinator for a new sign-in link.",
  "token-missing": "Please sign in first.",
  "user-disabled": "Your account is switched off. Ask your coordinator.",
  "role-may-not": "This sign-in cannot run surveys. Ask your coordinator for a collector's sign-in link.",
  "link-invalid": "This sign-in link is not complete. Open the whole link, or ask your coordinator for a new one.",
  "link-used": "This sign-in link was already used. Each link works once: ask your coordinator for a new one.",
  "link-expired": "This sign-in link has expired. Ask your coordinator for a new one.",
  "link-withdrawn": "This sign-in link was stopped. Ask your coordinator for a new one.",
  "survey-not-open": "This survey is closed in this language now, so this cannot be sent. Tell your coordinator.",
  "survey-no-consent": "This survey is not ready yet. Tell your coordinator.",
  "session-not-yours": "This respondent was started by another collector, so it cannot be sent with your sign-in.",
  "consent-missing": "The respondent's consent has not reached the server yet. It is sent first; this is tried again.",
  "session-finished": "This respondent is already finished, so the answer cannot be changed now. A reviewer can correct it.",
  "session-has-answers": "This respondent already has answers, so they cannot be discarded.",
  "respondent-withdrawn": "This respondent has left the survey. Nothing more can be added.",
  "answer-invalid": "The server could not use this answer. Open the question again and save the answer again.",
  "answer-out-of-range": "The server did not accept this answer: it is outside what the question allows (the phone's date or clock may be wrong). Change the answer while this respondent is open.",
  "answer-format": "The server did not accept this answer: it is not written the way the question needs. Change the answer while this respondent is open.",
  "recording-too-large": "The recording is too long to send. Record a shorter answer.",
  "answer-too-long": "The typed answer is too long. Shorten it, or record it instead.",
  "not-found": "The server does not have this respondent. Tell your coordinator.",
  "busy": "The server is busy. This is tried again by itself.",
  server: "The server had a problem. Everything is safe on this phone and is sent again by itself.",
  refused: "The server did not accept this. Tell your coordinator, with this code: {code}",
};

// Codes the server may give with no message of their own on the page.
const SAME_AS = { unprocessable: "answer-invalid" };
// Refusals of the answer itself (not of the respondent or the sign-in): changing the
// answer can put them right.
const CHANGEABLE = ["answer-out-of-range", "answer-format", "answer-invalid", "unprocessable",
                    "answer-too-long"];

function problemKey(problem) {
  const code = (problem && problem.code) || "refused";
  if (code in PROBLEMS) return code;
  if (code in SAME_AS) return SAME_AS[code];
  if (problem && problem.status >= 500) return "server";
  return "refused";
}

function fillProblem(el, problem) {
  const key = problemKey(problem);
  return fill(el, `err_${key}`, PROBLEMS[key], { code: (problem && problem.code) || "?" });
}

function noticeProblem(problem) {
  fillProblem($("notice"), problem);
  $("notice").hidden = false;
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  const token = localStorage.getItem(TOKEN);
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { ...options, headers });
  let body = null;
  try { body = await response.json(); } catch (err) { body = null; }
  if (!response.ok) {
    const error = new Error(`HTTP ${response.status}`);
    error.status = response.status;
    error.problem = { code: (body && body.code) || `http-${response.status}`, status: response.status };
    throw error;
  }
  return body;
}

// -- asking before anything is lost ------------------------------------------------------

// A modal question with its buttons ({value, key, fallback, quiet}); resolves to the
// value of the button pressed (the first, safest, one for Escape). `words`: a
// question's own message ({text, inBase}) shown above the page's explanation.
function ask({ title, body, values = {}, buttons, words = null }) {
  const dialog = $("confirm");
  fill($("confirm-title"), title[0], title[1], values);
  fill($("confirm-body"), body[0], body[1], values);
  $("confirm-words").hidden = !words;
  if (words) questionWords($("confirm-words"), words.text, words.inBase, "message");
  $("confirm-buttons").replaceChildren(...buttons.map((b) => {
    const button = document.createElement("button");
    button.type = "submit";
    button.value = b.value;
    button.className = b.quiet ? "quiet" : "";
    button.dataset.value = b.value;
    fill(button, b.key, b.fallback, values);
    return button;
  }));
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue || buttons[0].value),
      { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

// -- connection ------------------------------------------------------------------------

function showConnection() {
  const el = $("connection");
  el.classList.toggle("offline", !navigator.onLine);
  el.textContent = navigator.onLine ? text("online", "Connected")
    : text("offline", "No connection. Answers stay on this phone and are sent when the connection returns.");
  el.dataset.online = String(navigator.onLine);
  $("net").dataset.online = String(navigator.onLine);
}

// -- signing in and out ------------------------------------------------------------------

function cachedMe() {
  const found = JSON.parse(localStorage.getItem(ME) || "null");
  return found && found.id !== undefined ? found : null;
}

async function exchangeLink() {
  const match = location.hash.match(/link=([A-Za-z0-9_-]+)/);
  if (!match) return;
  // The code must not linger in the address bar or the history.
  history.replaceState(null, "", location.pathname);
  try {
    const answer = await api("/collect/api/links/exchange", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: match[1] }),
    });
    localStorage.setItem(TOKEN, answer.token);
  } catch (err) {
    if (err.problem) noticeProblem(err.problem);
  }
}

// Who the token belongs to; null when it no longer works (then it is forgotten, but
// the collector's unsent items stay, in view, until they sign in again).
async function whoAmI() {
  try {
    const found = await api("/api/me");
    const who = { id: found.id, name: found.name, role: found.role };
    localStorage.setItem(ME, JSON.stringify(who));
    return who;
  } catch (err) {
    if (err.status === 401) {
      localStorage.removeItem(TOKEN);
      noticeProblem(err.problem);
      return null;
    }
    if (err.status) { noticeProblem(err.problem); return null; }
    // No connection: trust who signed in last time until the server says otherwise.
    return cachedMe();
  }
}

function showWho(who) {
  const collecting = !!who;
  $("links").hidden = !(who && who.role === "admin");
  $("who").hidden = !collecting;
  $("sign-out").hidden = !collecting;
  if (collecting) {
    fill($("who"), "signed_in_as", "Signed in as {name}", { name: who.name });
    $("who").dataset.name = who.name;
  }
}

async function signIn(event) {
  event.preventDefault();
  const token = $("token").value.trim();
  notice("");
  if (!token) {
    notice("token_empty", "Paste your sign-in code first, or open your sign-in link.");
    return;
  }
  localStorage.setItem(TOKEN, token);
  $("token").value = "";
  const who = await whoAmI();
  if (who) await start(who);
  else await showSignIn();
}

async function unsentCount() {
  return (await outbox.all()).filter((i) => i.state !== "done").length;
}

async function signOut() {
  closeMenu();
  const count = await unsentCount();
  if (count > 0) {
    const choice = await ask({
      title: ["signout_title", "Some items are not sent yet"],
      body: ["signout_body", "{count} items are not sent yet. They stay safely on this phone and are sent the next time you sign in here. Nobody else who signs in here can see or send them."],
      values: { count },
      buttons: [
        { value: "stay", key: "stay_signed_in", fallback: "Stay signed in" },
        { value: "out", key: "signout_anyway", fallback: "Sign out anyway", quiet: true },
      ],
    });
    if (choice !== "out") return;
  }
  localStorage.removeItem(TOKEN);
  localStorage.removeItem(ME);
  me = null;
  session = null;
  disposeRecorders();
  notice("");
  saved("");
  outbox.setOwner(null);
  await showSignIn();
}

// The token stopped working while items were waiting: say so in the leader's words
// and keep their list in view; they are sent once this collector signs in again.
async function signedOutByServer(problem) {
  localStorage.removeItem(TOKEN);
  saved("");
  noticeProblem(problem);
  disposeRecorders();
  show("sign-in");
  $("uploads").hidden = false;
  $("who").hidden = true;
  $("sign-out").hidden = true;
  await renderOutbox();
}

async function showSignIn() {
  showWho(null);
  // Someone whose sign-in ran out keeps their own list in view; after signing out,
  // nobody's is shown.
  $("uploads").hidden = outbox.owner === null;
  await renderOutbox();
  show("sign-in");
}

function toggleMenu() {
  const open = $("menu").hidden;
  $("menu").hidden = !open;
  $("menu-button").setAttribute("aria-expanded", String(open));
  if (open) $("page-language").focus();
}

function closeMenu() {
  $("menu").hidden = true;
  $("menu-button").setAttribute("aria-expanded", "false");
}

async function issueLink(event) {
  event.preventDefault();
  notice("");
  const collector = $("link-collector").value.trim();
  if (!collector) {
    notice("link_needs_name", "Type the collector's user name first.");
    return;
  }
  try {
    const link = await api("/collect/api/links", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ collector }),
    });
    // In the page language's own order (a UK admin reads 30 November, not November 30).
    const until = new Intl.DateTimeFormat(locale(), { dateStyle: "long", timeStyle: "short" })
      .format(new Date(link.expires_at));
    fill($("link-made-text"), "link_made", "Send this link to the collector. It works once, until {time}.",
      { time: until });
    $("link-url").value = link.url;
    $("link-made").hidden = false;
    $("link-copied").replaceChildren();
    $("share-link").hidden = !navigator.share;
    $("copy-link").focus();
  } catch (err) {
    if (err.problem) noticeProblem(err.problem);
  }
}

async function copyLink() {
  const url = $("link-url").value;
  try {
    await navigator.clipboard.writeText(url);
    fill($("link-copied"), "link_copied", "Link copied. Paste it into a message to the collector.");
  } catch (err) {
    $("link-url").select();
    fill($("link-copied"), "copy_failed", "Copying did not work here: press and hold the link to copy it.");
  }
}

async function shareLink() {
  try {
    await navigator.share({ url: $("link-url").value, title: text("app_title", "cohear field survey") });
  } catch (err) {
    // Closed without sharing: nothing to say.
  }
}

// -- choosing a survey ---------------------------------------------------------------------

async function loadSurveys() {
  let surveys = null;
  try {
    surveys = await api("/collect/api/surveys");
    localStorage.setItem(SURVEYS, JSON.stringify(surveys));
  } catch (err) {
    if (err.status === 401) { await signedOutByServer(err.problem); return false; }
    if (err.status) noticeProblem(err.problem);  // e.g. a reviewer's token: say who may collect
    surveys = err.status ? [] : JSON.parse(localStorage.getItem(SURVEYS) || "[]");
  }
  const select = $("survey");
  select.replaceChildren(...surveys.map((s) => new Option(s.title, String(s.id))));
  select.surveys = surveys;
  $("no-surveys").hidden = surveys.length > 0;
  $("setup-form").hidden = surveys.length === 0;
  fillLanguages();
  // Keep each survey's questions on the phone while there is a connection, so a
  // respondent can be started where there is none.
  const pairs = surveys.flatMap((s) => s.languages.map((l) => [s.id, l.tag])).slice(0, 40);
  for (const [id, tag] of pairs) surveyIn(id, tag).catch(() => {});
  return true;
}

function fillLanguages() {
  const survey = ($("survey").surveys || []).find((s) => String(s.id) === $("survey").value);
  // Each language in its own name first (اردو), so a respondent can point to it.
  const options = (survey ? survey.languages : []).map((l) => {
    const own = l.native_name || l.name;
    const option = new Option(own === l.name ? own : `${own} (${l.name})`, l.tag);
    option.lang = l.tag;
    return option;
  });
  $("respondent-language").replaceChildren(...options);
}

async function surveyIn(surveyId, language) {
  const cacheKey = `cohear.collect.survey.${surveyId}.${language}`;
  try {
    const detail = await api(`/collect/api/surveys/${surveyId}/${encodeURIComponent(language)}`);
    localStorage.setItem(cacheKey, JSON.stringify(detail));
    return detail;
  } catch (err) {
    if (err.status && err.status !== 401) throw err;
    const cached = localStorage.getItem(cacheKey);
    if (cached) return JSON.parse(cached);
    throw err;
  }
}

function currentKey() { return CURRENT + (me ? me.id : "nobody"); }

async function startSession(event) {
  event.preventDefault();
  notice("");
  saved("");
  const surveyId = Number($("survey").value);
  const language = $("respondent-language").value;
  let detail;
  try {
    detail = await surveyIn(surveyId, language);
  } catch (err) {
    if (err.problem) noticeProblem(err.problem);
    else notice("survey_not_on_phone", "This survey is not on the phone yet. Connect once to fetch it; after that it works without a connection.");
    return;
  }
  const key = newKey();
  session = { key, surveyId, language, survey: detail, index: 0, consent: false,
              answered: {}, finished: false, ref: key.replace(/[^0-9a-f]/gi, "").slice(0, 4).toUpperCase() };
  await outbox.saveSession(session);
  localStorage.setItem(currentKey(), session.key);
  await outbox.add({ key: session.key, kind: "session", sessionKey: session.key,
                     payload: { surveyId, language } });
  showConsent();
}

// -- the respondent --------------------------------------------------------------------------

// The server's id once it has one; before that, the phone's own reference, so two
// respondents interviewed offline can be told apart.
function respondentLine(el) {
  if (!session) return;
  const current = session;
  const say = (respondent) => {
    if (respondent) fill(el, "respondent", "Respondent {id}", { id: respondent });
    else fill(el, "local_reference", "Reference on this phone: {ref} (not sent yet)", { ref: current.ref || "—" });
  };
  // Said at once (the line never pops in under a finger), then brought up to date.
  say(current.respondent);
  outbox.all().then((items) => {
    if (session !== current) return;
    const item = items.find((i) => i.key === current.key);
    if (item && item.respondent && item.respondent !== current.respondent) {
      current.respondent = item.respondent;
      say(item.respondent);
    }
  });
}

function setQuestionText(el, q) {
  el.textContent = q.text;
  const lang = q.in_base_language ? session.survey.base_language : session.survey.language.tag;
  const dir = q.in_base_language ? "auto" : session.survey.language.direction;
  el.setAttribute("lang", lang);
  el.setAttribute("dir", dir);
}

function disposeRecorders() {
  if (consentRecorder) consentRecorder.dispose();
  if (answerRecorder) answerRecorder.dispose();
  consentRecorder = null;
  answerRecorder = null;
}

async function discardRespondent() {
  const choice = await ask({
    title: ["discard_title", "Discard this respondent?"],
    body: ["discard_body", "Nothing has been answered yet. The respondent and their consent are removed from this phone and from the server."],
    buttons: [
      { value: "keep", key: "discard_keep", fallback: "Keep the respondent" },
      { value: "discard", key: "discard_yes", fallback: "Discard", quiet: true },
    ],
  });
  if (choice !== "discard") return;
  disposeRecorders();
  const items = (await outbox.all()).filter((i) => i.sessionKey === session.key);
  const created = items.find((i) => i.kind === "session");
  if (!created || created.state === "waiting" || created.state === "failed") {
    // Never reached the server: forgetting it on the phone is enough.
    await outbox.remove(items.map((i) => i.key));
    await outbox.removeSession(session.key);
  } else {
    await outbox.remove(items.filter((i) => i.state === "waiting" || i.state === "failed")
      .map((i) => i.key));
    session.discarded = true;
    await outbox.saveSession(session);
    await outbox.add({ key: newKey(), kind: "discard", sessionKey: session.key, payload: {} });
  }
  localStorage.removeItem(currentKey());
  session = null;
  saved("discarded", "The respondent was discarded.");
  await loadSurveys();
  show("setup");
}

// -- consent ----------------------------------------------------------------------------------

function showConsent() {
  const consent = session.survey.consent;
  setQuestionText($("consent-text"), consent);
  showHint($("consent-hint"), consent);
  respondentLine($("consent-respondent"));
  $("consent-prompt").hidden = !consent.has_prompt;
  $("consent-agree").checked = false;
  $("consent-problem").hidden = true;
  if (consentRecorder) consentRecorder.dispose();
  consentRecorder = new Recorder($("consent-recorder"), { onChange: () => { $("consent-problem").hidden = true; } });
  show("consent");
}

function refuse(el, key, fallback, values) {
  delete el.dataset.words;
  fill(el, key, fallback, values);
  el.hidden = false;
}

// A question's own words (its hint, required or constraint message): in the respondent's
// language, or in the survey's own language marked as not yet translated.
function questionWords(el, words, inBase, what) {
  const span = document.createElement("span");
  span.textContent = words;
  span.lang = inBase ? session.survey.base_language : session.survey.language.tag;
  span.dir = "auto";
  const parts = [span];
  if (inBase) {
    const mark = document.createElement("span");
    mark.className = "untranslated";
    fill(mark, "words_untranslated", "(not yet translated)");
    parts.push(" ", mark);
  }
  // Not one of the page's own messages: a change of page language leaves it as it is.
  delete el.dataset.key;
  el.dataset.words = what;
  el.replaceChildren(...parts);
  el.hidden = false;
}

function showHint(el, q) {
  el.hidden = !q.hint;
  if (q.hint) questionWords(el, q.hint, q.hint_in_base_language, "hint");
}

async function saveConsent() {
  if (consentRecorder && consentRecorder.recording) {
    refuse($("consent-problem"), "stop_first", "Stop the recording first, then save it.");
    return;
  }
  const blob = consentRecorder && consentRecorder.blob;
  if (!blob && !$("consent-agree").checked) {
    refuse($("consent-problem"), "consent_needed", "Tick the box, or record the respondent agreeing, before saving consent.");
    return;
  }
  $("consent-problem").hidden = true;
  const method = blob ? "verbal_recording" : "tick";
  await outbox.add({ key: newKey(), kind: "consent", sessionKey: session.key, blob: blob || undefined,
                     payload: { method } });
  session.consent = true;
  // The next respondent's consent starts unticked, whatever this one's was.
  $("consent-agree").checked = false;
  consentRecorder.dispose();
  consentRecorder = null;
  await outbox.saveSession(session);
  saved("consent_saved", "Consent recorded.");
  showQuestion();
}

// -- questions --------------------------------------------------------------------------------

function choiceInput(type, name, value, label, id, lang) {
  const row = document.createElement("div");
  row.className = "choice-row";
  const input = document.createElement("input");
  Object.assign(input, { type, name, value, id });
  const lab = document.createElement("label");
  lab.htmlFor = id;
  lab.textContent = label;
  if (lang) lab.lang = lang;
  lab.dir = "auto";
  row.append(input, lab);
  return row;
}

function questionChoices(q) {
  const base = session.survey.base_language;
  if (q.kind === "scale") {
    return Array.from({ length: q.max - q.min + 1 }, (_, i) => {
      const v = String(q.min + i);
      const label = q.labels && q.labels[v];
      const lang = label ? ((q.label_languages || {})[v] || session.survey.language.tag) : null;
      return { value: v, label: label ? `${v} – ${label}` : v, lang };
    });
  }
  return (q.choices || []).map((c) => ({ ...c, lang: c.label_language || (q.in_base_language ? base : null) }));
}

function current() { return session.survey.questions[session.index]; }

function summary(q, answer) {
  if (answer.audio) return text("saved_recording", "a recording");
  if (answer.text && q.kind === "date") return longDate(answer.text);
  if (answer.text) return answer.text;
  const labels = new Map(questionChoices(q).map((c) => [c.value, c.label]));
  return (answer.choices || []).map((v) => labels.get(v) || v).join(", ");
}

// -- number, date and time answers -----------------------------------------------------------

const FORMAT_HELP = {
  integer: ["help_integer", "A whole number, e.g. 42."],
  decimal: ["help_decimal", "A number, e.g. 36.6 (a point or a comma before the decimals)."],
  date: ["help_date", "A date: day, month and year."],
  time: ["help_time", "A time on the 24-hour clock, e.g. 14:30."],
  typedDate: ["help_date_typed", "A date written year-month-day, e.g. 2026-03-01."],
};
const VALUE_PROBLEMS = {
  value_not_whole: "Type a whole number, with digits only, e.g. 42.",
  value_not_number: "Type a number in digits, with a point or a comma before any decimals, e.g. 36.6.",
  value_not_date: "This is not a whole date. Give the day, the month and the year.",
  value_not_time: "This is not a whole time. Give the hours and the minutes.",
  too_small: "This is less than {min}, the lowest answer allowed.",
  too_large: "This is more than {max}, the highest answer allowed.",
  too_early: "This is before {min}, the earliest allowed.",
  too_late: "This is after {max}, the latest allowed.",
};

function longDate(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  if (!y || !m || !d) return iso;
  return new Intl.DateTimeFormat(locale(), { dateStyle: "long" }).format(new Date(y, m - 1, d));
}

// A bound as the leader reads it: a date in the page language's own words ("today",
// 1 March 2026), a number in the page's digits.
function shownBound(q, which) {
  const value = q[which];
  if (value === null || value === undefined || value === "") return null;
  if (q.kind === "date") return value === "today" ? text("today", "today") : longDate(value);
  if (q.kind === "time") return String(value);
  return new Intl.NumberFormat(locale(), { useGrouping: false, maximumFractionDigits: 20 })
    .format(Number(value));
}

// The input for a number, date or time: a text box with a numeric keyboard for numbers
// (type=number lets a scroll change the value and reads commas by the phone's locale),
// the phone's own picker for dates and times, each with its format and range as help.
function showValueInput(q, before) {
  const input = $("answer-value");
  input.type = { integer: "text", decimal: "text", date: "date", time: "time" }[q.kind];
  const modes = { integer: "numeric", decimal: "decimal" };
  if (modes[q.kind]) input.inputMode = modes[q.kind];
  else input.removeAttribute("inputmode");
  for (const which of ["min", "max"]) {
    // Dates and times are limited in the picker too ("today" is the phone's today).
    const limit = q.kind === "date" ? bound(q, which) : (q.kind === "time" ? q[which] : null);
    if (limit) input.setAttribute(which, limit);
    else input.removeAttribute(which);
  }
  input.required = !!q.required;
  input.dir = "ltr";
  input.value = before && before.text ? before.text : "";
  input.setAttribute("aria-describedby", q.hint ? "answer-value-help question-hint"
    : "answer-value-help");
  // A browser without a date picker leaves a text box: then the format is typed.
  const format = q.kind === "date" && input.type !== "date" ? FORMAT_HELP.typedDate
    : FORMAT_HELP[q.kind];
  const parts = [fill(document.createElement("span"), format[0], format[1])];
  const low = shownBound(q, "min");
  const high = shownBound(q, "max");
  if (low !== null || high !== null) {
    const range = document.createElement("span");
    if (low !== null && high !== null) {
      fill(range, "range_between", "Allowed: {min} to {max}.", { min: low, max: high });
    } else if (low !== null) {
      fill(range, "range_min", "Allowed: from {min}.", { min: low });
    } else {
      fill(range, "range_max", "Allowed: up to {max}.", { max: high });
    }
    parts.push(" ", range);
  }
  $("answer-value-help").replaceChildren(...parts);
}

// Why a typed value cannot be saved: the question's own constraint message for a value
// outside its range where it has one, else the page's words.
function refuseValue(q, found) {
  const el = $("answer-problem");
  if (found.problem !== "out_of_range") {
    refuse(el, found.problem, VALUE_PROBLEMS[found.problem]);
    return;
  }
  if (q.constraint_message) {
    questionWords(el, q.constraint_message, q.constraint_message_in_base_language,
      "constraint_message");
    return;
  }
  const moment = q.kind === "date" || q.kind === "time";
  const key = found.which === "min" ? (moment ? "too_early" : "too_small")
    : (moment ? "too_late" : "too_large");
  refuse(el, key, VALUE_PROBLEMS[key], { [found.which]: shownBound(q, found.which) });
}

function changeable(item) {
  return item.kind === "answer" && item.state === "failed" && !!item.problem &&
    CHANGEABLE.includes(item.problem.code);
}

// This respondent's answers to a question that the server refused for the answer itself.
async function refusedAnswers(questionId) {
  if (!session) return [];
  const key = session.key;
  return (await outbox.all()).filter((i) => changeable(i) && i.sessionKey === key &&
    i.payload.questionId === questionId);
}

// On the question's screen: its saved answer was not accepted, and why.
function showRefusal(q) {
  const shown = session;
  refusedAnswers(q.id).then((items) => {
    if (session !== shown || $("question").hidden || current() !== q) return;
    const last = items[items.length - 1];
    $("answered-refused").hidden = !last;
    $("answered").classList.toggle("refused", !!last);
    if (last) {
      fillProblem($("answered-refused"), last.problem);
      $("answered-refused").dataset.code = last.problem.code;
    }
  });
}

// The leader opens a question whose answer was not accepted, to change it.
async function changeAnswer(questionId) {
  if (!session || session.finished) return;
  const index = session.survey.questions.findIndex((q) => q.id === questionId);
  if (index < 0 || $("question").hidden) return;
  if (!(await mayLeave())) return;
  session.index = index;
  await outbox.saveSession(session);
  showQuestion();
}

// Skipping a question that needs an answer asks first, with the question's own message.
async function maySkip() {
  const q = current();
  if (!q.required || typeof session.answered[q.id] === "object") return true;
  const choice = await ask({
    title: ["required_note", "This question needs an answer."],
    body: ["required_body", "Skip it only if the respondent does not want to answer."],
    words: q.required_message
      ? { text: q.required_message, inBase: q.required_message_in_base_language } : null,
    buttons: [
      { value: "back", key: "go_back", fallback: "Go back to the question" },
      { value: "skip", key: "skip_anyway", fallback: "Skip it anyway", quiet: true },
    ],
  });
  return choice === "skip";
}

function showQuestion() {
  const questions = session.survey.questions;
  if (session.index >= questions.length) { showFinished(); return; }
  const q = current();
  fill($("question-heading"), "question_of", "Question {number} of {total}",
    { number: session.index + 1, total: questions.length });
  setQuestionText($("question-text"), q);
  respondentLine($("question-respondent"));
  $("not-translated").hidden = !q.in_base_language;
  showHint($("question-hint"), q);
  $("question-required").hidden = !q.required;
  $("question-prompt").hidden = !q.has_prompt;
  $("answer-problem").hidden = true;
  const before = typeof session.answered[q.id] === "object" ? session.answered[q.id] : null;
  $("answered").hidden = !before;
  $("answered").classList.remove("refused");
  $("answered-refused").hidden = true;
  if (before) {
    fill($("answered-text"), "saved_answer_is", "Saved answer: {answer}", { answer: summary(q, before) });
    showRefusal(q);
  }
  $("previous").disabled = session.index === 0;
  $("discard-question").hidden = Object.keys(session.answered).length > 0;
  $("save-answer").dataset.i18n = before ? "save_changed" : "save_answer";
  $("save-answer").textContent = before ? text("save_changed", "Save the changed answer")
    : text("save_answer", "Save answer");
  const voice = q.kind === "open" && q.answer !== "text";
  const typed = (q.kind === "open" && q.answer !== "voice") ||
    (q.kind === "demographic" && q.field === "postcode_district");
  $("answer-recorder").hidden = !voice;
  if (answerRecorder) answerRecorder.dispose();
  answerRecorder = voice ? new Recorder($("answer-recorder"), { onChange: () => { $("answer-problem").hidden = true; } }) : null;
  $("answer-text-wrap").hidden = !typed;
  $("answer-text").value = before && before.text ? before.text : "";
  $("answer-text").setAttribute("lang", session.survey.language.tag);
  $("answer-text").setAttribute("dir", "auto");
  const valued = VALUE_KINDS.includes(q.kind);
  $("answer-value-wrap").hidden = !valued;
  if (valued) showValueInput(q, before);
  const list = $("choice-list");
  list.replaceChildren();
  const choices = questionChoices(q);
  const type = q.kind === "multiple_choice" ? "checkbox" : "radio";
  const legend = $("choices-legend");
  legend.dataset.i18n = type === "checkbox" ? "choose_any" : "choose_one";
  legend.textContent = type === "checkbox" ? text("choose_any", "Choose all that apply")
    : text("choose_one", "Choose one");
  choices.forEach((c, i) => list.append(choiceInput(type, "choice", c.value, c.label, `choice-${i}`, c.lang)));
  for (const input of list.querySelectorAll("input")) {
    input.checked = !!(before && (before.choices || []).includes(input.value));
    input.addEventListener("change", () => { $("answer-problem").hidden = true; });
  }
  list.setAttribute("lang", session.survey.language.tag);
  $("answer-choices").hidden = choices.length === 0 || typed;
  show("question");
}

function entered() {
  const blob = answerRecorder && answerRecorder.blob;
  const typed = $("answer-text-wrap").hidden ? "" : $("answer-text").value.trim();
  const choices = $("answer-choices").hidden ? []
    : [...$("choice-list").querySelectorAll("input:checked")].map((i) => i.value);
  const valued = !$("answer-value-wrap").hidden;
  const value = valued ? asciiDigits($("answer-value").value) : "";
  // A date or time only partly filled in: the picker gives no value at all.
  const partial = valued && $("answer-value").validity.badInput;
  return { blob, typed, choices, value, partial,
           recording: !!(answerRecorder && answerRecorder.recording) };
}

// Something on this question that is not saved: a recording (made or under way), typed
// words or a choice that differ from the answer saved for it.
function unsaved() {
  if (!session || $("question").hidden) return false;
  const q = current();
  const before = typeof session.answered[q.id] === "object" ? session.answered[q.id] : null;
  const now = entered();
  if (now.recording || now.blob) return true;
  if (now.typed && now.typed !== ((before && before.text) || "")) return true;
  if (now.partial || (now.value && now.value !== ((before && before.text) || ""))) return true;
  const saved = (before && before.choices) || [];
  return now.choices.length > 0 &&
    (now.choices.length !== saved.length || now.choices.some((c) => !saved.includes(c)));
}

// Returns whether the answer was saved (the reason is shown when it was not).
async function saveCurrent() {
  const q = current();
  const now = entered();
  if (now.recording) {
    refuse($("answer-problem"), "stop_first", "Stop the recording first, then save it.");
    return false;
  }
  const valued = VALUE_KINDS.includes(q.kind);
  if (now.partial) {
    const key = q.kind === "time" ? "value_not_time" : "value_not_date";
    refuse($("answer-problem"), key, VALUE_PROBLEMS[key]);
    return false;
  }
  if (!now.blob && !now.typed && !now.choices.length && !now.value) {
    const before = typeof session.answered[q.id] === "object";
    if (before) return true;  // nothing new: the saved answer stands
    if (q.required && q.required_message) {
      questionWords($("answer-problem"), q.required_message, q.required_message_in_base_language,
        "required_message");
    } else if (valued) {
      refuse($("answer-problem"), "nothing_value", "Nothing to save yet: type or choose the answer.");
    } else {
      refuse($("answer-problem"), "nothing_to_save", "Nothing to save yet: record the answer, type it, or choose an option.");
    }
    return false;
  }
  let value = null;
  if (valued) {
    const found = checkValue(q, now.value);
    if (found.problem) {
      refuseValue(q, found);
      return false;
    }
    value = found.value;
  }
  const refused = await refusedAnswers(q.id);
  if (!unsaved()) {
    if (!refused.length) return true;
    // The same answer would be refused again.
    refuse($("answer-problem"), "refused_unchanged", "The server did not accept this answer. Change it before saving, or skip the question.");
    return false;
  }
  const payload = { questionId: q.id, number: session.index + 1 };
  const kept = {};
  if (now.blob) kept.audio = true;
  else if (now.choices.length) { payload.choices = now.choices; kept.choices = now.choices; }
  else if (valued) { payload.text = value; kept.text = value; }
  else { payload.text = now.typed; kept.text = now.typed; }
  await outbox.add({ key: newKey(), kind: "answer", sessionKey: session.key, blob: now.blob || undefined,
                     payload });
  // What the server refused can never be sent: the changed answer takes its place.
  if (refused.length) await outbox.remove(refused.map((i) => i.key));
  session.answered[q.id] = kept;
  await outbox.saveSession(session);
  saved("answer_saved", "Answer saved on this phone.");
  return true;
}

async function saveAnswer(event) {
  event.preventDefault();
  if (!(await saveCurrent())) return;
  session.index += 1;
  await outbox.saveSession(session);
  showQuestion();
}

// Before leaving a question with an answer not yet saved: save it, leave it, or stay.
async function mayLeave() {
  if (!unsaved()) return true;
  const choice = await ask({
    title: ["unsaved_title", "This answer is not saved"],
    body: ["unsaved_body", "There is an answer on this question that is not saved yet."],
    buttons: [
      { value: "save", key: "save_and_go", fallback: "Save it, then go on" },
      { value: "back", key: "go_back", fallback: "Go back to the question", quiet: true },
      { value: "drop", key: "leave_unsaved", fallback: "Go on without saving it", quiet: true },
    ],
  });
  if (choice === "save") return saveCurrent();
  if (choice === "drop") {
    if (answerRecorder) answerRecorder.dispose();
    return true;
  }
  return false;
}

async function step(delta) {
  if (!(await mayLeave())) return;
  if (delta > 0 && !(await maySkip())) return;
  session.index = Math.max(0, session.index + delta);
  await outbox.saveSession(session);
  showQuestion();
}

async function finishEarly() {
  if (!(await mayLeave())) return;
  const missing = session.survey.questions.filter((q) => q.required &&
    typeof session.answered[q.id] !== "object").length;
  if (missing) {
    const choice = await ask({
      title: ["required_left_title", "Questions that need an answer are not answered"],
      body: ["required_left_body", "Questions that need an answer and have none: {count}. Finish only if the respondent does not want to answer them."],
      values: { count: missing },
      buttons: [
        { value: "back", key: "go_back", fallback: "Go back to the question" },
        { value: "finish", key: "finish_anyway", fallback: "Finish anyway", quiet: true },
      ],
    });
    if (choice !== "finish") return;
  }
  await showFinished();
}

async function showFinished() {
  disposeRecorders();
  if (!session.finished) {
    session.finished = true;
    await outbox.saveSession(session);
    await outbox.add({ key: newKey(), kind: "finish", sessionKey: session.key, payload: {} });
  }
  localStorage.removeItem(currentKey());
  respondentLine($("finished-respondent"));
  show("finished");
}

async function playPrompt(question) {
  try {
    const response = await fetch(`/collect/api/questions/${question.id}/prompt/${encodeURIComponent(session.survey.language.tag)}`,
      { headers: { Authorization: `Bearer ${localStorage.getItem(TOKEN)}` } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const url = URL.createObjectURL(await response.blob());
    const audio = new Audio(url);
    audio.addEventListener("ended", () => URL.revokeObjectURL(url));
    await audio.play();
  } catch (err) {
    notice("prompt_failed", "The recorded question could not be played. Read the question aloud instead.");
  }
}

// -- the outbox on screen ------------------------------------------------------------------------

const TRANSCRIPTION = { uploaded: "tr_queued", queued: "tr_queued", transcribing: "tr_transcribing",
                        transcribed: "tr_transcribed", failed: "tr_failed", cancelled: "tr_failed",
                        "not needed": "tr_not_needed" };
const STATE_TEXT = { waiting: "Waiting", uploading: "Sending", done: "Sent", failed: "Not accepted" };
const ITEM_TEXT = { session: ["item_session", "New respondent"], consent: ["item_consent", "Consent"],
                    answer: ["item_answer", "Answer {number}"], finish: ["item_finish", "Respondent finished"],
                    discard: ["item_discard", "Respondent discarded"] };

async function renderOutbox() {
  if (!outbox) return;
  const items = await outbox.all();
  const list = $("queue-list");
  const sessions = new Map(items.filter((i) => i.kind === "session").map((i) => [i.key, i]));
  const own = new Map();
  list.replaceChildren(...items.slice().reverse().map((item) => {
    const li = document.createElement("li");
    li.dataset.kind = item.kind;
    li.dataset.state = item.state;
    li.dataset.key = item.key;
    const label = document.createElement("span");
    const [key, fallback] = ITEM_TEXT[item.kind] || ["item_answer", "Answer {number}"];
    fill(label, key, fallback, { number: (item.payload || {}).number || "" });
    const who = sessions.get(item.sessionKey) || {};
    if (!own.has(item.sessionKey)) own.set(item.sessionKey, item.sessionKey.replace(/[^0-9a-f]/gi, "").slice(0, 4).toUpperCase());
    const id = document.createElement("bdi");
    id.textContent = who.respondent || own.get(item.sessionKey);
    label.append(" · ", id);
    const state = document.createElement("span");
    state.className = `state state-${item.state}`;
    state.textContent = text(`state_${item.state}`, STATE_TEXT[item.state]);
    if (item.state === "uploading" && item.totalBytes) {
      state.textContent += ` ${Math.floor((100 * item.sentBytes) / item.totalBytes)}%`;
    }
    li.append(label, state);
    if (item.kind === "answer" && item.state === "done" && item.transcription) {
      const tr = document.createElement("span");
      tr.className = "transcription";
      tr.dataset.transcription = item.transcription;
      tr.textContent = text(TRANSCRIPTION[item.transcription] || "tr_queued", item.transcription);
      li.append(tr);
    }
    if (item.problem && (item.state === "failed" || item.problem.status >= 500)) {
      const detail = document.createElement("span");
      detail.className = "detail";
      detail.dataset.code = item.problem.code;
      fillProblem(detail, item.problem);
      li.append(detail);
    }
    if (changeable(item) && session && session.key === item.sessionKey && !session.finished &&
        !$("question").hidden) {
      const change = document.createElement("button");
      change.type = "button";
      change.className = "quiet change-answer";
      change.dataset.question = String(item.payload.questionId);
      fill(change, "change_answer", "Change answer {number}", { number: item.payload.number });
      change.addEventListener("click", () => changeAnswer(item.payload.questionId));
      li.append(change);
    }
    return li;
  }));
  $("queue-empty").hidden = items.some((i) => i.state !== "done");
  const waiting = items.filter((i) => i.state === "waiting" || i.state === "uploading").length;
  $("uploads").dataset.waiting = String(waiting);
  $("uploads").dataset.items = String(items.length);
  const others = await outbox.othersWaiting();
  $("others-waiting").hidden = others === 0;
  $("others-waiting").dataset.count = String(others);
  if (others && outbox.owner === null) {
    fill($("others-waiting"), "waiting_for_owner",
      "{count} items saved on this phone are waiting for the collector who saved them to sign in again.",
      { count: others });
  } else if (others) {
    fill($("others-waiting"), "others_waiting",
      "{count} items from another collector are waiting on this phone. They are sent when that collector signs in here.",
      { count: others });
  }
  if (session && !$("consent").hidden) respondentLine($("consent-respondent"));
  if (session && !$("question").hidden) {
    respondentLine($("question-respondent"));
    showRefusal(current());
  }
  if (session && !$("finished").hidden) respondentLine($("finished-respondent"));
}

// -- starting up ------------------------------------------------------------------------------------

async function start(who) {
  me = who;
  showWho(me);
  $("uploads").hidden = false;
  outbox.setOwner(me.id);
  await outbox.recover();
  await renderOutbox();
  const open = localStorage.getItem(currentKey());
  session = open ? await outbox.getSession(open) : null;
  if (session && !session.finished && !session.discarded) {
    if (session.consent) showQuestion();
    else showConsent();
    return;
  }
  session = null;
  if (await loadSurveys()) show("setup");
}

async function changeLanguage() {
  await load($("page-language").value);
  showConnection();
  showWho(me && localStorage.getItem(TOKEN) ? me : null);
  if (!$("sign-in").hidden && outbox && outbox.owner !== null) $("uploads").hidden = false;
  if (consentRecorder) consentRecorder.labels();
  if (answerRecorder) answerRecorder.labels();
  if (session && !$("question").hidden) {
    // Said again in the new language, keeping whatever was entered and not yet saved.
    const typed = $("answer-text").value;
    const value = $("answer-value").value;
    const chosen = [...$("choice-list").querySelectorAll("input:checked")].map((i) => i.value);
    showQuestion();
    $("answer-text").value = typed;
    if (!$("answer-value-wrap").hidden) $("answer-value").value = value;
    for (const input of $("choice-list").querySelectorAll("input")) {
      input.checked = chosen.includes(input.value);
    }
  }
  await renderOutbox();
  closeMenu();
}

async function main() {
  const language = pageLanguage();
  $("page-language").value = language;
  await load(language);
  showConnection();
  window.addEventListener("online", showConnection);
  window.addEventListener("offline", showConnection);
  $("menu-button").addEventListener("click", toggleMenu);
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !$("menu").hidden) closeMenu(); });
  $("page-language").addEventListener("change", changeLanguage);
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("link-form").addEventListener("submit", issueLink);
  $("copy-link").addEventListener("click", copyLink);
  $("share-link").addEventListener("click", shareLink);
  $("survey").addEventListener("change", fillLanguages);
  $("setup-form").addEventListener("submit", startSession);
  $("consent-agree").addEventListener("change", () => { $("consent-problem").hidden = true; });
  $("save-consent").addEventListener("click", saveConsent);
  $("discard-consent").addEventListener("click", discardRespondent);
  $("discard-question").addEventListener("click", discardRespondent);
  $("consent-prompt").addEventListener("click", () => playPrompt(session.survey.consent));
  $("question-prompt").addEventListener("click", () => playPrompt(current()));
  $("answer-form").addEventListener("submit", saveAnswer);
  $("answer-text").addEventListener("input", () => { $("answer-problem").hidden = true; });
  $("answer-value").addEventListener("input", () => { $("answer-problem").hidden = true; });
  $("previous").addEventListener("click", () => step(-1));
  $("skip").addEventListener("click", () => step(1));
  $("finish-early").addEventListener("click", finishEarly);
  $("next-respondent").addEventListener("click", async () => {
    session = null;
    saved("");
    if (await loadSurveys()) show("setup");
  });
  $("send-now").addEventListener("click", () => outbox.retryNow());
  const last = cachedMe();
  outbox = new Outbox(await openDatabase(last ? String(last.id) : null), {
    token: () => localStorage.getItem(TOKEN),
    onChange: renderOutbox,
    onSignedOut: (problem) => { signedOutByServer(problem); },
  });
  // Ask the browser not to clear the outbox when the phone runs short of space.
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/collect/sw.js", { scope: "/collect/" }).catch(() => {});
  }
  await exchangeLink();
  const who = localStorage.getItem(TOKEN) ? await whoAmI() : null;
  if (who) {
    await start(who);
  } else {
    // A sign-in that ran out: that collector's unsent list stays in view.
    const previous = cachedMe();
    outbox.setOwner(previous ? previous.id : null);
    await showSignIn();
  }
  document.body.dataset.ready = "true";
}

main();
