// Back office: move focus to the error summary after a failed submit (for browsers that ignore autofocus
// on it), and copy claim links to the clipboard. Every page works without this script.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary && document.activeElement !== summary) {
    summary.focus();
  }
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy"));
      var done = function () {
        var status = document.getElementById(button.getAttribute("data-copy") + "-copied");
        if (status) { status.textContent = button.getAttribute("data-copied-text"); }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done);
      } else {
        field.select();
        document.execCommand("copy");
        done();
      }
    });
  });
})();
// The event set-up form: a setting that only matters for one choice (the hours an offer holds, with a waiting list;
// the days before the event, with refunds) shows only while that choice is made. Hidden fields are still sent, so
// their values are kept; without this script they always show.
(function () {
  "use strict";
  document.querySelectorAll(".depends-on[data-shown-by]").forEach(function (block) {
    var form = block.closest("form");
    var name = block.getAttribute("data-shown-by");
    var wanted = block.getAttribute("data-shown-when");
    if (!form || !form.querySelector("input[name='" + name + "']")) return;
    function update() {
      var chosen = form.querySelector("input[name='" + name + "']:checked");
      block.hidden = !!chosen && chosen.value !== wanted && !block.querySelector("[aria-invalid='true']");
    }
    form.addEventListener("change", function (event) {
      if (event.target && event.target.name === name) update();
    });
    update();
  });
})();
