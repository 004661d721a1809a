// A running total on the event page as the buyer chooses. Display only: the server prices the order
// in integer pence and the checkout page shows the exact total before anyone pays.
// Amounts are written exactly as the server writes them (money.py), and a typed donation is read exactly as the
// server reads it (orders/forms.py parse_pounds, Arabic and Persian digits too): static/js/money.js does both.
import { formatMoney, parsePence } from "./money.js";

(function () {
  "use strict";
  var form = document.querySelector(".buy-form");
  var out = document.getElementById("live-total");
  if (!form || !out) return;
  // The amount format the page carries (data-money, from the money_format filter); without it no total is shown.
  var format = form.dataset.money ? JSON.parse(form.dataset.money) : null;
  function donationPence() {
    var field = form.querySelector("#donation");
    return (field && parsePence(field.value)) || 0;  // not an amount: the server will say so; nothing added meanwhile
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
    if (!format) return;  // a page without the format shows no total
    out.textContent = formatMoney(Math.max(0, pence), format);
    out.parentElement.hidden = false;
  }
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})();
