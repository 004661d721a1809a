// The door pages with no signal: the page and its files are served from the cache when the network is
// gone (network first, so a new version of the page replaces the old). The API is never cached: the page's
// script keeps its own copy of the guest list and queues scans itself.
const CACHE = "events-door-v1";

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith("events-door-") && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  const page = request.mode === "navigate" && /^\/door\/[a-z0-9-]+\/?$/.test(url.pathname);
  const file = url.pathname.startsWith("/static/");
  if (request.method !== "GET" || url.origin !== self.location.origin || !(page || file)) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        // A signed-out visit is redirected to /login: that is not the page to keep.
        if (response.ok && !response.redirected && response.type === "basic") {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
        }
        return response;
      })
      .catch(() => caches.match(url.pathname).then((cached) => cached || Response.error()))
  );
});
