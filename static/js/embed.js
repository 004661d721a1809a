// The embeddable ticket form on an organisation's own website (the snippet from each event's back-office page):
// sizes each ticket-form frame to the page inside it, and passes on the host page's language. It trusts messages only
// from the site it was loaded from (event.origin) and only from the frame they came from (event.source).
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var ours = new URL(script.src).origin;

  function widgets() {
    return Array.prototype.filter.call(document.querySelectorAll("iframe[data-events-widget]"), function (frame) {
      try {
        return new URL(frame.src, window.location.href).origin === ours;
      } catch (error) {
        return false;
      }
    });
  }

  widgets().forEach(function (frame) {
    frame.style.border = "0";
    frame.style.width = "100%";
    frame.style.display = "block";
    // The form in the host page's language (data-lang on the frame, else <html lang>), unless its address names one.
    var lang = (frame.getAttribute("data-lang") || document.documentElement.lang || "").split("-")[0].toLowerCase();
    var src = new URL(frame.src, window.location.href);
    if (/^[a-z]{2,3}$/.test(lang) && !src.searchParams.has("lang")) {
      src.searchParams.set("lang", lang);
      frame.src = src.href;
    }
  });

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== ours || !data || data.type !== "events-widget:height") return;
    widgets().forEach(function (frame) {
      if (frame.contentWindow !== event.source) return;
      var height = Number(data.height);
      if (height > 0 && height < 100000) frame.style.height = Math.ceil(height) + "px";
      // A new step (the questions, the payment) starts at the frame's top: bring it into view if it is above.
      if (data.loaded && frame.dataset.eventsWidgetShown && frame.getBoundingClientRect().top < 0) frame.scrollIntoView();
      if (data.loaded) frame.dataset.eventsWidgetShown = "1";
    });
  });
})();
