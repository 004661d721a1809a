// A running total on the event page as the buyer chooses. Display only: the server prices the order
// in integer pence and the checkout page shows the exact total before anyone pays.
(function () {
  "use strict";
  var form = document.querySelector(".buy-form");
  var out = document.getElementById("live-total");
  if (!form || !out) return;
  // Written as the server writes amounts (money.py): the language's way, with the UK's symbol ("£", not "£GB" or
  // "UK£"), Western digits and no bidi marks.
  var currency = form.dataset.currency || "GBP";
  var symbol = new Intl.NumberFormat("en-GB", { style: "currency", currency: currency })
    .formatToParts(0).filter(function (part) { return part.type === "currency"; })[0].value;
  var numbers = new Intl.NumberFormat(document.documentElement.lang || "en", {
    style: "currency",
    currency: currency,
    numberingSystem: "latn",
  });
  var bidiMarks = /[\u200e\u200f\u061c]/g;
  function money(pounds) {
    return numbers.formatToParts(pounds).map(function (part) {
      return part.type === "currency" ? symbol : part.value;
    }).join("").replace(bidiMarks, "");
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
    out.textContent = money(pence / 100);
    out.parentElement.hidden = false;
  }
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})();
