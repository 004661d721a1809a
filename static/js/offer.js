// A waiting-list offer of paid places: the total follows the number of places chosen. Display only: the server
// renders the price of one place and the total for the number first shown, and prices the order in integer pence
// when the guest takes the places; the payment page shows the exact total before anyone pays.
(function () {
  "use strict";
  var form = document.querySelector("form.take-offer[data-place-pence]");
  var out = document.getElementById("offer-total");
  var select = document.getElementById("wl-quantity");
  if (!form || !out || !select) return;
  var placePence = Number(form.dataset.placePence);
  if (!(placePence >= 0)) return;
  // Written as the server writes amounts (money.py): the language's way, with the UK's symbol ("£", not "£GB" or
  // "UK£"), Western digits and no bidi marks (as buy.js does on the event page).
  var currency = form.dataset.currency || "GBP";
  var symbol = new Intl.NumberFormat("en-GB", { style: "currency", currency: currency })
    .formatToParts(0).filter(function (part) { return part.type === "currency"; })[0].value;
  var numbers = new Intl.NumberFormat(document.documentElement.lang || "en", {
    style: "currency",
    currency: currency,
    numberingSystem: "latn",
  });
  var bidiMarks = /[\u200e\u200f\u061c]/g;
  function money(pence) {
    var pounds = pence / 100;
    var whole = pence % 100 === 0;
    var formatter = whole
      ? new Intl.NumberFormat(numbers.resolvedOptions().locale, {
          style: "currency", currency: currency, numberingSystem: "latn", minimumFractionDigits: 0, maximumFractionDigits: 0,
        })
      : numbers;
    return formatter.formatToParts(pounds).map(function (part) {
      return part.type === "currency" ? symbol : part.value;
    }).join("").replace(bidiMarks, "");
  }
  function update() {
    var places = Number(select.value);
    if (!(places >= 1)) return;
    out.textContent = money(places * placePence);
  }
  select.addEventListener("change", update);
  select.addEventListener("input", update);
})();
