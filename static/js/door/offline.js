// Keeping the door page for a reload with no signal: the door service worker (/door/sw.js, door-sw.js) serves
// the page and these files from this cache when the network is gone. A module missing here would stop the
// whole page loading offline: tests/js/door.test.mjs checks that every module door.js imports is listed.

import { JSQR } from "./scanning.js";

const CACHE = "events-door-v1"; // door-sw.js's cache

export const PAGE_FILES = [
  "/static/js/door.js",
  "/static/js/door/admit.js",
  "/static/js/door/codes.js",
  "/static/js/door/messages.js",
  "/static/js/door/offline.js",
  "/static/js/door/sales.js",
  "/static/js/door/scanning.js",
  "/static/js/door/search.js",
  "/static/js/door/status.js",
  "/static/js/door/storage.js",
  "/static/js/door/sync.js",
  "/static/js/door/verdict.js",
  "/static/js/forms.js",
  "/static/js/keep-typed.js",
  "/static/js/money.js",
  "/static/css/site.css",
  "/static/css/door.css",
  "/static/favicon.ico",
  "/static/favicon.svg",
  JSQR,
];

export function keepForOffline(slug) {
  if (!("serviceWorker" in navigator) || !window.caches) return Promise.resolve();
  return navigator.serviceWorker
    .register("/door/sw.js", { scope: "/door/" })
    .then(() => navigator.serviceWorker.ready)
    .then(() => caches.open(CACHE))
    .then((cache) => cache.addAll(["/door/" + slug].concat(PAGE_FILES)))
    .catch(() => {});
}
