// Ticket and order pages: the Print button, and with data-offline on this script tag, a service worker (sw.js) that
// keeps the page available with no signal. The page asks the worker to keep it at once, with its style sheets,
// scripts and images and the ticket pages it links to (data-offline-keep), so the page a guest opens from a text
// message works offline from that first visit. A file rather than inline script and onclick, which the
// Content-Security-Policy does not run.
(function () {
  "use strict";
  var script = document.currentScript;
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  if (!script || !script.hasAttribute("data-offline") || !("serviceWorker" in navigator)) return;
  var keep = [location.href];
  document.querySelectorAll("link[rel=stylesheet][href], script[src], img[src], a[data-offline-keep][href]").forEach(function (element) {
    keep.push(element.href || element.src);
  });
  navigator.serviceWorker.addEventListener("message", function (event) {
    if (event.data && typeof event.data.kept === "number") document.documentElement.setAttribute("data-offline-ready", "true");
  });
  navigator.serviceWorker.register("/sw.js")
    .then(function () { return navigator.serviceWorker.ready; })
    .then(function (registration) { registration.active.postMessage({ keep: keep }); })
    .catch(function () {});
})();
