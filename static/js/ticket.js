// Ticket pages: the Print button, and with data-offline on this script tag, a service worker that keeps
// the ticket available with no signal (it stores pages as they are opened). A file rather than inline
// script and onclick, which the Content-Security-Policy does not run.
(function () {
  "use strict";
  var script = document.currentScript;
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  if (script && script.hasAttribute("data-offline") && "serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js");
  }
})();
