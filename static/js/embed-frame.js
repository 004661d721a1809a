// A page of the embeddable ticket form, framed on the organisation's own website: it tells the host page its height
// (embed.js there sizes the frame to it, so the frame never scrolls inside the page), posting only to the websites the
// organisation listed (data-parent-origins: the only ones allowed to frame it). Links that leave the form open in a
// new tab, so the guest keeps their place in it. Without this script the form works in a frame of fixed height.
(function () {
  "use strict";
  document.querySelectorAll("a[href]").forEach(function (link) {
    if (link.getAttribute("href").charAt(0) === "#" || link.target) return;
    var url = new URL(link.href, window.location.href);
    if (url.origin === window.location.origin && url.pathname.indexOf("/embed/") === 0) return;
    link.target = "_blank";
    link.rel = "noopener";
  });
  var origins = (document.body.getAttribute("data-parent-origins") || "").split(" ").filter(Boolean);
  if (window.parent === window || origins.length === 0 || typeof ResizeObserver === "undefined") return;
  var reported = 0;
  var loaded = true;
  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === reported && !loaded) return;
    reported = height;
    var message = { type: "events-widget:height", height: height, loaded: loaded };
    loaded = false;
    origins.forEach(function (origin) {
      // Only the host page whose origin this is receives it; for any other the browser drops it.
      window.parent.postMessage(message, origin);
    });
  }
  new ResizeObserver(report).observe(document.body);
  report();
})();
