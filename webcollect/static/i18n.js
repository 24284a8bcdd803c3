// The page's own words: fetched per language from cohear (approved translations of the
// `collect-page` comms messages), kept on the phone for use without a connection.

const LANGUAGES = ["en", "ur", "bn", "pa-Guru", "pl"];
// Dates and numbers as people in the West Midlands read them: day before month.
const LOCALES = { en: "en-GB", ur: "ur-PK", bn: "bn-BD", "pa-Guru": "pa-IN", pl: "pl-PL" };
const CACHE_PREFIX = "cohear.collect.interface.";
let strings = {};
let current = "en";

export function pageLanguage() {
  const saved = localStorage.getItem("cohear.collect.language");
  if (saved && LANGUAGES.includes(saved)) return saved;
  const wanted = (navigator.language || "en").toLowerCase();
  if (wanted.startsWith("pa")) return "pa-Guru";
  return LANGUAGES.find((l) => wanted.startsWith(l)) || "en";
}

export function locale() { return LOCALES[current] || current; }

export async function load(language) {
  let data = null;
  try {
    const response = await fetch(`/collect/interface/${encodeURIComponent(language)}`);
    if (response.ok) {
      data = await response.json();
      localStorage.setItem(CACHE_PREFIX + language, JSON.stringify(data));
    }
  } catch (err) {
    // No connection: the copy kept from last time, if any, does.
  }
  if (!data) {
    const cached = localStorage.getItem(CACHE_PREFIX + language);
    data = cached ? JSON.parse(cached) : null;
  }
  localStorage.setItem("cohear.collect.language", language);
  current = language;
  strings = data ? data.strings : {};
  document.documentElement.lang = language;
  document.documentElement.dir = data ? data.direction : "ltr";
  apply(document);
  refill(document);
  return data;
}

// `{name}`-style placeholders are filled from `values`; without a string for the key
// (not loaded yet), the English text already in the page stays.
export function t(key, values = {}) {
  const text = strings[key];
  if (text === undefined) return null;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// Put a message into an element with each filled-in value in its own <bdi>, so a
// name, a number or an English word keeps its own direction inside an Urdu sentence
// (and the sentence's full stop stays at its end).
export function fill(el, key, fallback, values = {}) {
  const template = strings[key] ?? fallback;
  const parts = [];
  let last = 0;
  template.replace(/\{(\w+)\}/g, (whole, name, offset) => {
    parts.push(document.createTextNode(template.slice(last, offset)));
    if (name in values) {
      const bdi = document.createElement("bdi");
      bdi.textContent = String(values[name]);
      parts.push(bdi);
    } else {
      parts.push(document.createTextNode(whole));
    }
    last = offset + whole.length;
    return whole;
  });
  parts.push(document.createTextNode(template.slice(last)));
  el.replaceChildren(...parts);
  el.dataset.key = key;
  filled.set(el, [key, fallback, values]);
  return el;
}

// Messages already on the page, said again in the language just chosen.
const filled = new WeakMap();
export function refill(root) {
  for (const el of root.querySelectorAll("[data-key]")) {
    const found = filled.get(el);
    if (found) fill(el, ...found);
  }
}

export function apply(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    const text = t(el.dataset.i18n);
    if (text !== null) el.textContent = text;
  }
}
