// The back office's menus on a phone are strips that scroll sideways (site.css): bring the current page's link into
// view in its strip, without moving the page.
(function () {
  "use strict";
  document.querySelectorAll(".backoffice-nav ul, .event-tabs ul").forEach(function (strip) {
    var current = strip.querySelector("[aria-current='page']");
    if (!current || strip.scrollWidth <= strip.clientWidth) return;
    var item = current.closest("li") || current;
    strip.scrollLeft = item.offsetLeft - strip.offsetLeft - (strip.clientWidth - item.offsetWidth) / 2;
  });
})();
