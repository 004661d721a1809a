// Gift Aid on a donation made instead of a refund ("Donate my ticket", a cancelled event's refund): the name and
// address HMRC needs show only once the box is ticked. Without JavaScript they always show, and count only when the
// box is ticked. (The event page's buy form does the same in buy.js, which also shows the box only when giving.)
(function () {
  "use strict";
  document.querySelectorAll("form:not(.buy-form) .gift-aid").forEach(function (fieldset) {
    var box = fieldset.querySelector("input[type=checkbox][name=gift_aid]");
    var details = fieldset.querySelector(".gift-aid-details");
    if (!box || !details) return;
    function update() {
      details.hidden = !box.checked;
    }
    box.addEventListener("change", update);
    update();
  });
})();
