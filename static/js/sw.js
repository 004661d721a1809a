// Offline tickets: ticket pages, order pages and the site's static files are kept as they are opened, and served
// from the cache when the network is gone (network first, so a re-issued ticket replaces the old one).
// The page a guest opens from a text message is itself kept on that first visit: it asks this worker to keep it
// (static/js/ticket.js), since the request that loaded it came before the worker was there to see it.
const CACHE = "events-tickets-v1";
// A ticket page's organisation colours and logo, so an offline ticket still looks like theirs.
const ORGANISATION_BRANDING = /^\/organisations\/[a-z0-9-]+\/(theme\.css|logo)$/;
// An order page (its access token is in the query, so each order is its own cache entry); not its checkout.
const ORDER_PAGE = /^\/orders\/[A-Za-z0-9-]+$/;

function cacheable(url) {
  return url.origin === self.location.origin &&
    (url.pathname.startsWith("/tickets/") || url.pathname.startsWith("/static/") ||
     ORGANISATION_BRANDING.test(url.pathname) || ORDER_PAGE.test(url.pathname));
}

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

// {keep: [url, ...]} from a page: fetch and keep each one this worker would serve offline (one failing keeps the rest).
self.addEventListener("message", (event) => {
  const urls = event.data && Array.isArray(event.data.keep) ? event.data.keep : [];
  const wanted = urls.map((text) => new URL(text, self.location.origin)).filter(cacheable);
  event.waitUntil(
    caches.open(CACHE).then((cache) => Promise.all(wanted.map((url) =>
      fetch(url, { credentials: "same-origin" })
        .then((response) => (response.ok ? cache.put(url, response) : undefined))
        .catch(() => undefined)
    ))).then(() => {
      if (event.source) event.source.postMessage({ kept: wanted.length });
    })
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !cacheable(url)) return;
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
