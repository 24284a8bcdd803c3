// The page's own words: fetched per language from cohear (approved translations of the
// `collect-page` comms messages), kept on the phone for use without a connection.

const LANGUAGES = ["en", "ur", "bn", "pa-Guru", "pl"];
const CACHE_PREFIX = "cohear.collect.interface.";
let strings = {};

export function pageLanguage() {
  const saved = localStorage.getItem("cohear.collect.language");
  if (saved && LANGUAGES.includes(saved)) return saved;
  const wanted = (navigator.language || "en").toLowerCase();
  if (wanted.startsWith("pa")) return "pa-Guru";
  return LANGUAGES.find((l) => wanted.startsWith(l)) || "en";
}

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
  strings = data ? data.strings : {};
  document.documentElement.lang = language;
  document.documentElement.dir = data ? data.direction : "ltr";
  apply(document);
  return data;
}

// `{name}`-style placeholders are filled from `values`; without a string for the key
// (not loaded yet), the English text already in the page stays.
export function t(key, values = {}) {
  const text = strings[key];
  if (text === undefined) return null;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

export function apply(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    const text = t(el.dataset.i18n);
    if (text !== null) el.textContent = text;
  }
}
