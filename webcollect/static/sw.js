// Keeps the page's own files on the phone, so the page opens without a connection.
// Network first (a new version arrives as soon as there is a connection), the kept
// copy when there is none. API calls are never cached: the outbox deals with those.

const CACHE = "cohear-collect-v3";
const SHELL = ["/collect/", "/collect/static/collect.css", "/collect/static/app.js",
  "/collect/static/i18n.js", "/collect/static/queue.js", "/collect/static/recorder.js",
  "/collect/static/values.js", "/collect/fonts.css"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin ||
      !url.pathname.startsWith("/collect/") || url.pathname.startsWith("/collect/api/")) {
    return;
  }
  event.respondWith(fetch(event.request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(event.request, copy));
    }
    return response;
  }).catch(() => caches.match(event.request, { ignoreSearch: true })));
});
