// Offline tickets: ticket pages and the site's static files are kept as they are opened, and served
// from the cache when the network is gone (network first, so a re-issued ticket replaces the old one).
const CACHE = "events-tickets-v1";
// A ticket page's organisation colours and logo, so an offline ticket still looks like theirs.
const ORGANISATION_BRANDING = /^\/organisations\/[a-z0-9-]+\/(theme\.css|logo)$/;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(["/static/css/site.css"])));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    // Only this worker's own older caches: the door page keeps a cache of its own.
    caches.keys().then((names) => Promise.all(
      names.filter((name) => name.startsWith("events-tickets-") && name !== CACHE).map((name) => caches.delete(name))
    ))
  );
  self.clients.claim();
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const cacheable = event.request.method === "GET" && url.origin === self.location.origin &&
    (url.pathname.startsWith("/tickets/") || url.pathname.startsWith("/static/") || ORGANISATION_BRANDING.test(url.pathname));
  if (!cacheable) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(() => caches.match(event.request))
  );
});
