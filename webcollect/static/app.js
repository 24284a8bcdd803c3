// The field page: sign in, choose a survey and the respondent's language, record
// consent, then each answer; everything goes through the outbox (queue.js).

import { load, pageLanguage, t } from "./i18n.js";
import { Outbox, newKey, openDatabase } from "./queue.js";
import { Recorder } from "./recorder.js";

const $ = (id) => document.getElementById(id);
const TOKEN = "cohear.collect.token";
const ME = "cohear.collect.me";
const CURRENT = "cohear.collect.current";
const SURVEYS = "cohear.collect.surveys";
const SCREENS = ["sign-in", "setup", "consent", "question", "finished"];

let outbox = null;
let session = null;         // the session being run, as kept in IndexedDB
let consentRecorder = null;
let answerRecorder = null;

function text(key, fallback, values) { return t(key, values) ?? fallback; }

function show(screen) {
  for (const id of SCREENS) $(id).hidden = id !== screen;
  const heading = $(screen).querySelector("h2");
  if (heading) heading.focus();
}

// Said once by screen readers (a polite live region), and shown until the next step.
function saved(message) {
  $("saved").textContent = message;
}

function notice(message) {
  $("notice").textContent = message || "";
  $("notice").hidden = !message;
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  const token = localStorage.getItem(TOKEN);
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { ...options, headers });
  let body = null;
  try { body = await response.json(); } catch (err) { body = null; }
  if (!response.ok) {
    const error = new Error((body && body.detail) || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

// -- connection ------------------------------------------------------------------------

function showConnection() {
  const el = $("connection");
  el.classList.toggle("offline", !navigator.onLine);
  el.textContent = navigator.onLine ? text("online", "Connected")
    : text("offline", "No connection. Answers stay on this phone and are sent when the connection returns.");
  el.dataset.online = String(navigator.onLine);
}

// -- signing in --------------------------------------------------------------------------

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
    localStorage.setItem(ME, JSON.stringify({ name: answer.collector, role: "collector" }));
  } catch (err) {
    notice(`${text("sign_in_failed", "Sign-in failed.")} ${err.message}`);
  }
}

async function whoAmI() {
  try {
    const me = await api("/api/me");
    localStorage.setItem(ME, JSON.stringify({ name: me.name, role: me.role }));
    return me;
  } catch (err) {
    if (err.status === 401) {
      localStorage.removeItem(TOKEN);
      localStorage.removeItem(ME);
      if (err.message) notice(`${text("sign_in_failed", "Sign-in failed.")} ${err.message}`);
      return null;
    }
    // No connection: trust who signed in last time until the server says otherwise.
    const cached = localStorage.getItem(ME);
    return cached ? JSON.parse(cached) : null;
  }
}

function showWho(me) {
  $("links").hidden = !(me && me.role === "admin");
  $("who").hidden = !me;
  $("sign-out").hidden = !me;
  $("uploads").hidden = !me;
  if (me) {
    $("who").textContent = text("signed_in_as", `Signed in as ${me.name}`, { name: me.name });
    $("who").dataset.name = me.name;
  }
}

async function signIn(event) {
  event.preventDefault();
  const token = $("token").value.trim();
  if (!token) return;
  localStorage.setItem(TOKEN, token);
  $("token").value = "";
  notice("");
  const me = await whoAmI();
  if (me) await start(me);
  else show("sign-in");
}

function signOut() {
  localStorage.removeItem(TOKEN);
  localStorage.removeItem(ME);
  showWho(null);
  show("sign-in");
}

async function issueLink(event) {
  event.preventDefault();
  notice("");
  const collector = $("link-collector").value.trim();
  if (!collector) return;
  try {
    const link = await api("/collect/api/links", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ collector }),
    });
    const until = new Date(link.expires_at).toLocaleString(document.documentElement.lang);
    $("link-made-text").textContent = text("link_made",
      `Send this link to the collector. It works once, until ${until}.`, { time: until });
    $("link-url").value = link.url;
    $("link-made").hidden = false;
    $("link-url").focus();
    $("link-url").select();
  } catch (err) {
    notice(err.message);
  }
}

// -- choosing a survey ---------------------------------------------------------------------

async function loadSurveys() {
  let surveys = null;
  try {
    surveys = await api("/collect/api/surveys");
    localStorage.setItem(SURVEYS, JSON.stringify(surveys));
  } catch (err) {
    if (err.status === 401) { signOut(); return; }
    if (err.status) notice(err.message);  // e.g. a reviewer's token: say who may collect
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
}

function fillLanguages() {
  const survey = ($("survey").surveys || []).find((s) => String(s.id) === $("survey").value);
  const options = (survey ? survey.languages : []).map((l) => {
    const option = new Option(l.name, l.tag);
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
    notice(err.message);
    return;
  }
  session = { key: newKey(), surveyId, language, survey: detail, index: 0, consent: false,
              answered: {}, finished: false };
  await outbox.saveSession(session);
  localStorage.setItem(CURRENT, session.key);
  await outbox.add({ key: session.key, kind: "session", sessionKey: session.key,
                     payload: { surveyId, language } });
  showConsent();
}

// -- consent ----------------------------------------------------------------------------------

function respondentLine(el) {
  outbox.all().then((items) => {
    const item = items.find((i) => i.key === session.key);
    el.textContent = item && item.respondent ? text("respondent", `Respondent ${item.respondent}`,
      { id: item.respondent }) : "";
  });
}

function setQuestionText(el, q) {
  el.textContent = q.text;
  const lang = q.in_base_language ? session.survey.base_language : session.survey.language.tag;
  const dir = q.in_base_language ? "auto" : session.survey.language.direction;
  el.setAttribute("lang", lang);
  el.setAttribute("dir", dir);
}

function showConsent() {
  const consent = session.survey.consent;
  setQuestionText($("consent-text"), consent);
  respondentLine($("consent-respondent"));
  $("consent-prompt").hidden = !consent.has_prompt;
  $("consent-agree").checked = false;
  if (consentRecorder) consentRecorder.dispose();
  consentRecorder = new Recorder($("consent-recorder"), { onChange: updateConsentButton });
  updateConsentButton();
  show("consent");
}

function updateConsentButton() {
  $("save-consent").disabled = !($("consent-agree").checked || (consentRecorder && consentRecorder.blob));
}

async function saveConsent() {
  const blob = consentRecorder && consentRecorder.blob;
  const method = blob ? "verbal_recording" : "tick";
  await outbox.add({ key: newKey(), kind: "consent", sessionKey: session.key, blob: blob || undefined,
                     payload: { method } });
  session.consent = true;
  consentRecorder.dispose();
  await outbox.saveSession(session);
  saved(text("consent_saved", "Consent recorded."));
  showQuestion();
}

// -- questions --------------------------------------------------------------------------------

function choiceInput(type, name, value, label, id) {
  const row = document.createElement("div");
  row.className = "choice-row";
  const input = document.createElement("input");
  Object.assign(input, { type, name, value, id });
  const lab = document.createElement("label");
  lab.htmlFor = id;
  lab.textContent = label;
  row.append(input, lab);
  return row;
}

function showQuestion() {
  const questions = session.survey.questions;
  if (session.index >= questions.length) { showFinished(); return; }
  const q = questions[session.index];
  $("question-heading").textContent = text("question_of",
    `Question ${session.index + 1} of ${questions.length}`,
    { number: session.index + 1, total: questions.length });
  setQuestionText($("question-text"), q);
  respondentLine($("question-respondent"));
  $("not-translated").hidden = !q.in_base_language;
  $("question-prompt").hidden = !q.has_prompt;
  const done = !!session.answered[q.id];
  $("answered").hidden = !done;
  $("answer-form").hidden = done;
  $("previous").disabled = session.index === 0;
  const last = session.index === questions.length - 1;
  $("skip").textContent = last ? text("finish", "Finish") : text("skip", "Skip");
  const voice = q.kind === "open" && q.answer !== "text";
  const typed = (q.kind === "open" && q.answer !== "voice") ||
    (q.kind === "demographic" && q.field === "postcode_district");
  $("answer-recorder").hidden = !voice;
  if (answerRecorder) answerRecorder.dispose();
  answerRecorder = voice ? new Recorder($("answer-recorder")) : null;
  $("answer-text-wrap").hidden = !typed;
  $("answer-text").value = "";
  $("answer-text").setAttribute("lang", session.survey.language.tag);
  $("answer-text").setAttribute("dir", "auto");
  const list = $("choice-list");
  list.replaceChildren();
  const choices = q.kind === "scale"
    ? Array.from({ length: q.max - q.min + 1 }, (_, i) => {
      const v = String(q.min + i);
      return { value: v, label: q.labels && q.labels[v] ? `${v} – ${q.labels[v]}` : v };
    })
    : (q.choices || []);
  const type = q.kind === "multiple_choice" ? "checkbox" : "radio";
  const legend = $("choices-legend");
  legend.dataset.i18n = type === "checkbox" ? "choose_any" : "choose_one";
  legend.textContent = type === "checkbox" ? text("choose_any", "Choose all that apply")
    : text("choose_one", "Choose one");
  choices.forEach((c, i) => list.append(choiceInput(type, "choice", c.value, c.label, `choice-${i}`)));
  list.setAttribute("lang", session.survey.language.tag);
  $("answer-choices").hidden = choices.length === 0 || typed;
  show("question");
}

async function saveAnswer(event) {
  event.preventDefault();
  const q = session.survey.questions[session.index];
  const blob = answerRecorder && answerRecorder.blob;
  const typed = $("answer-text").value.trim();
  const choices = [...$("choice-list").querySelectorAll("input:checked")].map((i) => i.value);
  if (!blob && !typed && !choices.length) return;
  const payload = { questionId: q.id, number: session.index + 1 };
  if (!blob) {
    if (choices.length) payload.choices = choices;
    else payload.text = typed;
  }
  await outbox.add({ key: newKey(), kind: "answer", sessionKey: session.key, blob: blob || undefined,
                     payload });
  session.answered[q.id] = true;
  session.index += 1;
  await outbox.saveSession(session);
  saved(text("answer_saved", "Answer saved on this phone."));
  showQuestion();
}

async function step(delta) {
  session.index = Math.max(0, session.index + delta);
  await outbox.saveSession(session);
  showQuestion();
}

async function showFinished() {
  session.finished = true;
  await outbox.saveSession(session);
  localStorage.removeItem(CURRENT);
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
    notice(err.message);
  }
}

// -- the outbox on screen ------------------------------------------------------------------------

const TRANSCRIPTION = { uploaded: "tr_queued", queued: "tr_queued", transcribing: "tr_transcribing",
                        transcribed: "tr_transcribed", failed: "tr_failed", cancelled: "tr_failed",
                        "not needed": "tr_not_needed" };
const STATE_TEXT = { waiting: "Waiting", uploading: "Sending", done: "Sent", failed: "Not accepted" };

async function renderOutbox() {
  const items = await outbox.all();
  const list = $("queue-list");
  const sessions = new Map(items.filter((i) => i.kind === "session").map((i) => [i.key, i]));
  list.replaceChildren(...items.slice().reverse().map((item) => {
    const li = document.createElement("li");
    li.dataset.kind = item.kind;
    li.dataset.state = item.state;
    li.dataset.key = item.key;
    const label = document.createElement("span");
    const respondent = (sessions.get(item.sessionKey) || {}).respondent;
    const names = { session: text("item_session", "New respondent"), consent: text("item_consent", "Consent"),
                    answer: text("item_answer", "Answer") };
    label.textContent = names[item.kind] + (item.kind === "answer" ? ` ${item.payload.number}` : "") +
      (respondent ? ` · ${respondent}` : "");
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
    if (item.error) {
      const detail = document.createElement("span");
      detail.className = "detail";
      detail.textContent = item.error;
      li.append(detail);
    }
    return li;
  }));
  $("queue-empty").hidden = items.some((i) => i.state !== "done");
  const waiting = items.filter((i) => i.state === "waiting" || i.state === "uploading").length;
  $("uploads").dataset.waiting = String(waiting);
  $("uploads").dataset.items = String(items.length);
  if (session && !$("consent").hidden) respondentLine($("consent-respondent"));
  if (session && !$("question").hidden) respondentLine($("question-respondent"));
}

// -- starting up ------------------------------------------------------------------------------------

async function start(me) {
  showWho(me);
  await outbox.recover();
  await renderOutbox();
  const current = localStorage.getItem(CURRENT);
  session = current ? await outbox.getSession(current) : null;
  if (session && !session.finished) {
    if (session.consent) showQuestion();
    else showConsent();
    return;
  }
  await loadSurveys();
  show("setup");
}

async function changeLanguage() {
  await load($("page-language").value);
  showConnection();
  const me = JSON.parse(localStorage.getItem(ME) || "null");
  showWho(me && localStorage.getItem(TOKEN) ? me : null);
  if (consentRecorder) consentRecorder.labels();
  if (answerRecorder) answerRecorder.labels();
  if (session && !$("question").hidden) showQuestion();
  if (outbox) renderOutbox();
}

async function main() {
  const language = pageLanguage();
  $("page-language").value = language;
  await load(language);
  showConnection();
  window.addEventListener("online", showConnection);
  window.addEventListener("offline", showConnection);
  $("page-language").addEventListener("change", changeLanguage);
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("link-form").addEventListener("submit", issueLink);
  $("survey").addEventListener("change", fillLanguages);
  $("setup-form").addEventListener("submit", startSession);
  $("consent-agree").addEventListener("change", updateConsentButton);
  $("save-consent").addEventListener("click", saveConsent);
  $("consent-prompt").addEventListener("click", () => playPrompt(session.survey.consent));
  $("question-prompt").addEventListener("click", () => playPrompt(session.survey.questions[session.index]));
  $("answer-form").addEventListener("submit", saveAnswer);
  $("previous").addEventListener("click", () => step(-1));
  $("skip").addEventListener("click", () => step(1));
  $("next-respondent").addEventListener("click", async () => {
    session = null;
    await loadSurveys();
    show("setup");
  });
  $("send-now").addEventListener("click", () => outbox.retryNow());
  outbox = new Outbox(await openDatabase(), {
    token: () => localStorage.getItem(TOKEN),
    onChange: renderOutbox,
    onSignedOut: (detail) => { notice(detail); signOut(); },
  });
  // Ask the browser not to clear the outbox when the phone runs short of space.
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/collect/sw.js", { scope: "/collect/" }).catch(() => {});
  }
  await exchangeLink();
  const me = localStorage.getItem(TOKEN) ? await whoAmI() : null;
  if (me) await start(me);
  else { showWho(null); show("sign-in"); }
  document.body.dataset.ready = "true";
}

main();
