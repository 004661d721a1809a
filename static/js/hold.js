// The payment page's hold: a countdown of the time left to pay, from the seconds the server counted when it sent
// the page (the device's own clock may be wrong). Shown, not announced: a screen reader hears the time left once,
// two minutes before the end, and once more when it has run out; then the page offers no way to pay, only a way back.
(function () {
  "use strict";
  var note = document.getElementById("hold-note");
  if (!note) return;
  var left = Number(note.dataset.secondsLeft);
  if (!(left >= 0)) return;
  var countdown = note.querySelector(".hold-countdown");
  var shown = countdown.querySelector("time");
  var warning = document.getElementById("hold-warning");
  var over = note.querySelector(".hold-over");
  var ends = Date.now() + left * 1000;
  var warned = left <= 120;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var seconds = Math.max(0, Math.ceil((ends - Date.now()) / 1000));
    shown.textContent = Math.floor(seconds / 60) + ":" + pad(seconds % 60);
    shown.setAttribute("datetime", "PT" + seconds + "S");
    countdown.hidden = false;
    if (!warned && seconds <= 120) {
      warned = true;
      warning.textContent = note.dataset.warning;
    }
    if (seconds === 0) {
      // Over: nothing speaks of a running hold and no way to pay is left on the page, which said "not charged".
      countdown.hidden = true;
      var focusLost = false;
      document.querySelectorAll(".hold-running, .change-order, #payment-form, #express-checkout, #pay-by-card, .test-payment").forEach(function (part) {
        if (part.contains(document.activeElement)) focusLost = true;
        part.hidden = true;
      });
      over.hidden = false;
      // Someone typing their card or on the Pay button is not left on nothing: they are taken to what happened.
      if (focusLost) over.focus();
      return;
    }
    // The shown second changes when the time left passes a whole second: wait until just after that.
    var untilNextSecond = ((ends - Date.now()) % 1000 + 1000) % 1000 || 1000;
    window.setTimeout(tick, untilNextSecond + 10);
  }
  tick();
})();
