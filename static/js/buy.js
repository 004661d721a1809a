// A running total on the event page as the buyer chooses. Display only: the server prices the order
// in integer pence and the checkout page shows the exact total before anyone pays.
(function () {
  "use strict";
  var form = document.querySelector(".buy-form");
  var out = document.getElementById("live-total");
  if (!form || !out) return;
  // Written exactly as the server writes amounts (money.py): static/js/money.js puts the amount into the format the
  // page carries (data-money, from the money_format filter). Loaded as a module from this classic script, so any
  // page that includes buy.js keeps working as it is.
  var format = form.dataset.money ? JSON.parse(form.dataset.money) : null;
  var formatMoney = null;
  if (format) {
    import(new URL("money.js", document.currentScript.src).href).then(function (module) {
      formatMoney = module.formatMoney;
      update();
    });
  }
  function donationPence() {
    var field = form.querySelector("#donation");
    var match = field && /^\s*£?\s*(\d{1,6})(?:[.,](\d{1,2}))?\s*$/.exec(field.value);
    if (!match) return 0;
    return Number(match[1]) * 100 + Number((match[2] || "0").padEnd(2, "0"));
  }
  // Gift Aid is offered once there is a donation or a pay-it-forward place; its details show when ticked.
  var giftAid = form.querySelector(".gift-aid");
  function updateGiftAid() {
    if (!giftAid) return;
    var box = giftAid.querySelector("#gift_aid");
    var places = form.querySelector("#pay_it_forward_places");
    var giving = donationPence() > 0 || (places && Number(places.value) > 0);
    giftAid.hidden = !giving && !box.checked;
    giftAid.querySelector("#gift-aid-details").hidden = !box.checked;
  }
  function update() {
    updateGiftAid();
    var pence = donationPence();
    var tickets = 0;
    form.querySelectorAll("select[data-price]").forEach(function (select) {
      pence += Number(select.value) * Number(select.dataset.price);
      tickets += Number(select.value) * Number(select.dataset.ticketPence || 0);
    });
    // A code's fixed amount off comes off the tickets only, never below nothing (codes.rules).
    pence -= Math.min(Number(form.dataset.discountPence || 0), tickets);
    if (!formatMoney) return;  // until money.js has loaded, or on a page without the format: no total shown
    out.textContent = formatMoney(Math.max(0, pence), format);
    out.parentElement.hidden = false;
  }
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})();
