// The outbox: every session, consent and answer is saved on the phone (IndexedDB) the
// moment it is recorded, then sent in order with retries. Each item has its own
// Idempotency-Key, so sending it again after a dropped connection never stores it twice.
//
// Items belong to the collector who saved them (`owner`, their user id): a phone
// shared by two leaders keeps two outboxes in one database, shows each leader only
// their own, and sends each only with its owner's token, after that owner signs in.
// The outbox is given its owner and token together, and only once the server has said
// that this token is that collector's (the page checks with /api/me): a token it has
// not confirmed sends nothing. Each sending round holds on to the owner and token it
// started with, so a sign-in that changes half-way never lends one collector's token
// to another's items, and every item tells the server whose it is (`Cohear-Collector`),
// which refuses it with anyone else's token.

const DB_NAME = "cohear-collect";
const DB_VERSION = 2;
const MAX_WAIT_MS = 30000;
const POLL_MS = 4000;
const UPLOAD_TIMEOUT_MS = 120000;
const KEEP_DONE_MS = 3 * 24 * 3600 * 1000;
const OPEN_TRANSCRIPTION = ["uploaded", "queued", "transcribing"];

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

// `lastOwner`: who was signed in before this version of the page, if anyone. Items
// saved then carry no owner; they were that collector's (the page sent everything with
// the one token it held), so they are given to them.
export async function openDatabase(lastOwner = null) {
  const req = indexedDB.open(DB_NAME, DB_VERSION);
  req.onupgradeneeded = (event) => {
    const db = req.result;
    const tx = req.transaction;
    if (event.oldVersion < 1) {
      const items = db.createObjectStore("items", { keyPath: "key" });
      items.createIndex("createdAt", "createdAt");
      db.createObjectStore("sessions", { keyPath: "key" });
    }
    if (event.oldVersion < 2) {
      for (const name of ["items", "sessions"]) {
        const store = tx.objectStore(name);
        store.openCursor().onsuccess = (e) => {
          const cursor = e.target.result;
          if (!cursor) return;
          if (cursor.value.owner === undefined) cursor.update({ ...cursor.value, owner: lastOwner });
          cursor.continue();
        };
      }
    }
  };
  return request(req);
}

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function extension(type) {
  if ((type || "").includes("ogg")) return "ogg";
  if ((type || "").includes("mp4")) return "m4a";
  return "webm";
}

// What the server said when it refused an item: its stable code and status, never
// its English sentence (the page says it in the leader's language).
function problemOf(body, status) {
  return { code: (body && body.code) || `http-${status}`, status };
}

export class Outbox {
  constructor(db, { onChange, onSignedOut, onNotTheirs }) {
    this.db = db;
    this.owner = null;          // whose items are shown; null: nobody's
    this.token = null;          // the token confirmed to be the owner's; null: nothing moves
    this.onChange = onChange || (() => {});
    this.onSignedOut = onSignedOut || (() => {});
    this.onNotTheirs = onNotTheirs || (() => {});
    this.running = false;
    this.timer = null;
    window.addEventListener("online", () => this.retryNow());
    // Another tab of the page changed the outbox: show it as it now is.
    this.tabs = "BroadcastChannel" in window ? new BroadcastChannel("cohear-collect-outbox") : null;
    if (this.tabs) this.tabs.onmessage = () => this.onChange();
  }

  told() { if (this.tabs) this.tabs.postMessage("changed"); }

  // Whose outbox this is from now on, and the token the server confirmed is theirs.
  // Without a token the owner's list is only shown (their sign-in ran out); without an
  // owner, nobody's is.
  use(owner, token = null) {
    this.owner = owner === null || owner === undefined ? null : String(owner);
    this.token = this.owner === null ? null : (token || null);
    this.signedOut = false;
    clearTimeout(this.timer);
    if (this.token) this.pump();
  }

  // The owner and token a sending round works for, fixed when it starts.
  holder() { return { owner: this.owner, token: this.token }; }

  still(holder) {
    return !this.signedOut && this.owner === holder.owner && this.token === holder.token;
  }

  async store(name, mode, work) {
    const tx = this.db.transaction(name, mode);
    const result = await work(tx.objectStore(name));
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
    if (mode === "readwrite" && name === "items") this.told();
    return result;
  }

  put(item) { return this.store("items", "readwrite", (s) => request(s.put(item))); }

  async everything() {
    return this.store("items", "readonly", (s) => request(s.index("createdAt").getAll()));
  }

  // The signed-in collector's items only.
  async all() {
    if (this.owner === null) return [];
    return (await this.everything()).filter((i) => i.owner === this.owner);
  }

  // How many items other collectors left unsent on this phone (nothing more is said).
  async othersWaiting() {
    return (await this.everything()).filter((i) => i.owner !== this.owner &&
      (i.state === "waiting" || i.state === "uploading")).length;
  }

  saveSession(session) {
    if (this.owner === null) throw new Error("nobody is signed in");
    return this.store("sessions", "readwrite", (s) => request(s.put({ ...session, owner: this.owner })));
  }

  async getSession(key) {
    const found = await this.store("sessions", "readonly", (s) => request(s.get(key)));
    return found && found.owner === this.owner ? found : null;
  }

  async remove(keys) {
    for (const key of keys) await this.store("items", "readwrite", (s) => request(s.delete(key)));
    this.onChange();
  }

  async removeSession(key) {
    await this.store("sessions", "readwrite", (s) => request(s.delete(key)));
  }

  async add(item) {
    if (this.owner === null) throw new Error("nobody is signed in");
    const full = { state: "waiting", attempts: 0, nextTry: 0, createdAt: Date.now(), ...item,
                   owner: this.owner };
    await this.put(full);
    this.onChange();
    this.pump();
    return full;
  }

  // After a reload, anything caught half-sent is simply sent again (same key).
  async recover() {
    const items = await this.all();
    for (const item of items) {
      if (item.state === "uploading") {
        item.state = "waiting";
        await this.put(item);
      }
    }
    await this.forgetSettled(items);
    this.pump();
  }

  // A finished respondent whose every item was sent days ago (and transcribed, where
  // that applies) need not be listed on the phone any more. Refused items stay.
  async forgetSettled(items) {
    const old = Date.now() - KEEP_DONE_MS;
    const groups = new Map();
    for (const item of items) {
      if (!groups.has(item.sessionKey)) groups.set(item.sessionKey, []);
      groups.get(item.sessionKey).push(item);
    }
    for (const [sessionKey, group] of groups) {
      const settled = group.every((i) => i.state === "done" && i.createdAt < old &&
        (i.kind !== "answer" || !OPEN_TRANSCRIPTION.includes(i.transcription)));
      const session = await this.getSession(sessionKey);
      if (!settled || (session && !session.finished && !session.discarded)) continue;
      for (const item of group) {
        await this.store("items", "readwrite", (s) => request(s.delete(item.key)));
      }
      await this.store("sessions", "readwrite", (s) => request(s.delete(sessionKey)));
    }
  }

  async retryNow() {
    for (const item of await this.all()) {
      if (item.state === "waiting") {
        item.nextTry = 0;
        await this.put(item);
      }
    }
    this.pump();
  }

  schedule(ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pump(), Math.max(200, ms));
  }

  async pump() {
    // Nothing moves for nobody, nor without a confirmed token, nor once the server said
    // the sign-in no longer works (until someone signs in again).
    if (this.owner === null || this.signedOut || !this.token) return;
    if (this.running) { this.again = true; return; }
    this.running = true;
    try {
      do {
        this.again = false;
        const holder = this.holder();
        if (holder.owner === null || !holder.token) break;
        await this.sendWaiting(holder);
      } while (this.again && !this.signedOut);
      if (this.owner !== null && this.token && !this.signedOut) {
        await this.pollTranscriptions(this.holder());
      }
    } finally {
      this.running = false;
    }
  }

  async sendWaiting(holder) {
    const items = (await this.everything()).filter((i) => i.owner === holder.owner);
    const byKey = new Map(items.map((i) => [i.key, i]));
    let soonest = Infinity;
    for (const item of items) {
      // Someone else signed in meanwhile: start again for them.
      if (!this.still(holder)) { this.again = !this.signedOut; return; }
      if (item.state !== "waiting") continue;
      const session = byKey.get(item.sessionKey);
      const consent = items.find((i) => i.kind === "consent" && i.sessionKey === item.sessionKey);
      // Order matters: the session exists before its consent, consent before answers,
      // and a respondent is finished only once everything before it has gone.
      const blocker = [session, item.kind === "answer" ? consent : null]
        .find((b) => b && b !== item && b.state === "failed");
      if (blocker) {
        // What it depends on was refused, so it can never be accepted: say so rather
        // than leave it waiting for ever.
        item.state = "failed";
        item.problem = blocker.problem;
        await this.put(item);
        this.onChange();
        continue;
      }
      if (item.kind !== "session" && (!session || session.state !== "done")) continue;
      if (item.kind === "answer" && (!consent || consent.state !== "done")) continue;
      if (item.kind === "finish" && items.some((i) => i.sessionKey === item.sessionKey &&
          i.createdAt < item.createdAt && i.state !== "done" && i.state !== "failed")) continue;
      if (item.nextTry > Date.now()) { soonest = Math.min(soonest, item.nextTry); continue; }
      if (!navigator.onLine) { soonest = Math.min(soonest, Date.now() + MAX_WAIT_MS); break; }
      const outcome = await this.send(item, session, holder);
      if (outcome === "stop") return;
      if (outcome === "retry") { soonest = Math.min(soonest, item.nextTry); break; }
      this.again = true;
      return;
    }
    if (soonest !== Infinity) this.schedule(soonest - Date.now());
  }

  async send(item, session, holder) {
    // Never with a token that is not the item's owner's (the server refuses it too).
    if (item.owner !== holder.owner || !holder.token) return "stop";
    item.state = "uploading";
    await this.put(item);
    this.onChange();
    let response;
    try {
      const inParts = item.blob ? await this.sendParts(item, session, holder) : false;
      response = await this.fetchWithTimeout(this.url(item, session), {
        method: this.method(item), body: this.body(item, inParts),
        headers: this.headers(item, holder),
      });
    } catch (err) {
      if (err.permanent) {
        item.state = "failed";
        item.problem = err.problem;
        await this.put(item);
        this.onChange();
        return "failed";
      }
      return this.later(item, err.problem || null);
    }
    let body = {};
    try { body = await response.json(); } catch (err) { body = {}; }
    if (item.kind === "discard" && (response.ok || response.status === 404)) {
      // The respondent is gone from the server: nothing of theirs stays on the phone.
      const gone = (await this.everything()).filter((i) => i.sessionKey === item.sessionKey &&
        i.owner === item.owner);
      await this.remove(gone.map((i) => i.key));
      await this.removeSession(item.sessionKey);
      return "done";
    }
    if (response.ok) {
      item.state = "done";
      item.serverId = body.session_id && item.kind === "session" ? body.session_id :
        body.answer_id || body.consent_id || null;
      item.respondent = body.respondent || item.respondent;
      item.transcription = body.transcription || null;
      item.version = body.version || null;
      item.duplicate = !!body.duplicate;
      item.problem = null;
      delete item.blob;  // sent and confirmed: the phone no longer needs to hold the audio
      await this.put(item);
      this.onChange();
      return "done";
    }
    if (response.status === 401) {
      if (this.token === holder.token) this.signedOut = true;
      item.state = "waiting";
      await this.put(item);
      this.onChange();
      this.onSignedOut(problemOf(body, 401), holder.token);
      return "stop";
    }
    if (body.code === "collector-mismatch") {
      // The server says this token is not the owner's: the item waits for its owner,
      // and the page asks again whom the token belongs to.
      if (this.token === holder.token) this.signedOut = true;
      item.state = "waiting";
      item.problem = problemOf(body, response.status);
      await this.put(item);
      this.onChange();
      this.onNotTheirs(item.problem, holder.token);
      return "stop";
    }
    if (response.status >= 500 || response.status === 408 || response.status === 429) {
      return this.later(item, problemOf(body, response.status));
    }
    item.state = "failed";
    item.problem = problemOf(body, response.status);
    await this.put(item);
    this.onChange();
    return "failed";
  }

  async fetchWithTimeout(url, options) {
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), UPLOAD_TIMEOUT_MS);
    try {
      return await fetch(url, { ...options, signal: controller.signal });
    } finally {
      clearTimeout(timeout);
    }
  }

  // A recording larger than the server's part size goes up in parts, carrying on from
  // whatever the server already has, so a dropped connection costs one part at most.
  // Returns whether it was sent in parts (else it travels inside the form as usual).
  async sendParts(item, session, holder) {
    const auth = { Authorization: `Bearer ${holder.token}`, "Cohear-Collector": item.owner };
    const url = `/collect/api/parts/${encodeURIComponent(item.key)}`;
    const first = await this.fetchWithTimeout(url, { headers: auth });
    // Not signed in (any more), or not the owner's token: the form upload below meets
    // the same refusal and says so.
    if (first.status === 401 || first.status === 403) return false;
    if (!first.ok) throw new Error(`HTTP ${first.status}`);
    const status = await first.json();
    if (status.saved) return true;  // stored already; the form below is told so
    const size = item.blob.size;
    if (size <= status.part_bytes && !status.received) return false;
    let offset = status.received || 0;
    while (offset < size) {
      const part = item.blob.slice(offset, offset + status.part_bytes);
      const r = await this.fetchWithTimeout(`${url}?offset=${offset}&total=${size}&session=${session.serverId}`, {
        method: "PUT", body: part, headers: { ...auth, "Content-Type": "application/octet-stream" },
      });
      const answer = await r.json().catch(() => ({}));
      if (r.ok || (r.status === 409 && typeof answer.received === "number")) {
        offset = answer.received;
      } else {
        const error = new Error(`HTTP ${r.status}`);
        error.problem = problemOf(answer, r.status);
        error.permanent = r.status < 500 && ![401, 408, 429].includes(r.status);
        throw error;
      }
      item.sentBytes = offset;
      item.totalBytes = size;
      await this.put(item);
      this.onChange();
    }
    return true;
  }

  async later(item, problem) {
    item.attempts += 1;
    item.state = "waiting";
    item.problem = problem || null;
    item.nextTry = Date.now() + Math.min(MAX_WAIT_MS, 1000 * 2 ** Math.min(item.attempts, 5));
    await this.put(item);
    this.onChange();
    return "retry";
  }

  headers(item, holder) {
    const h = { Authorization: `Bearer ${holder.token}`, "Idempotency-Key": item.key,
                "Cohear-Collector": item.owner };
    if (item.kind === "session") h["Content-Type"] = "application/json";
    return h;
  }

  url(item, session) {
    if (item.kind === "session") return "/collect/api/sessions";
    const base = `/collect/api/sessions/${session.serverId}`;
    return { consent: `${base}/consent`, answer: `${base}/answers`, finish: `${base}/finish`,
             discard: base }[item.kind];
  }

  method(item) { return item.kind === "discard" ? "DELETE" : "POST"; }

  body(item, inParts = false) {
    const p = item.payload;
    if (item.kind === "finish" || item.kind === "discard") return undefined;
    if (item.kind === "session") return JSON.stringify({ survey_id: p.surveyId, language: p.language });
    const form = new FormData();
    if (item.kind === "consent") {
      form.append("method", p.method);
      if (inParts) form.append("in_parts", "true");
      else if (item.blob) form.append("recording", item.blob, `consent.${extension(item.blob.type)}`);
      return form;
    }
    form.append("question_id", String(p.questionId));
    if (p.text) form.append("text", p.text);
    for (const choice of p.choices || []) form.append("choices", choice);
    if (inParts) form.append("in_parts", "true");
    else if (item.blob) form.append("audio", item.blob, `answer.${extension(item.blob.type)}`);
    return form;
  }

  // Sent voice answers: ask how their transcription is going until it has finished.
  async pollTranscriptions(holder) {
    const items = (await this.everything()).filter((i) => i.owner === holder.owner);
    const sessions = new Map(items.filter((i) => i.kind === "session" && i.serverId)
      .map((i) => [i.key, i.serverId]));
    const open = items.filter((i) => i.kind === "answer" && i.state === "done" &&
      OPEN_TRANSCRIPTION.includes(i.transcription));
    if (!open.length) return;
    if (navigator.onLine && this.still(holder)) {
      const ids = [...new Set(open.map((i) => sessions.get(i.sessionKey)).filter(Boolean))];
      try {
        const query = ids.map((id) => `session=${id}`).join("&");
        const response = await fetch(`/collect/api/status?${query}`,
          { headers: { Authorization: `Bearer ${holder.token}` } });
        if (response.ok) {
          const found = new Map();
          for (const s of await response.json()) {
            for (const a of s.answers || []) found.set(a.answer_id, a.transcription);
          }
          for (const item of open) {
            const now = found.get(item.serverId);
            if (now && now !== item.transcription) {
              item.transcription = now;
              await this.put(item);
            }
          }
          this.onChange();
        }
      } catch (err) {
        // No connection: ask again later.
      }
    }
    this.schedule(POLL_MS);
  }
}
