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
  // Written exactly as the server writes amounts (money.py), by static/js/money.js in the format the form carries
  // (data-money, as buy.js does on the event page). Until it has loaded, the server's total stands.
  var format = form.dataset.money ? JSON.parse(form.dataset.money) : null;
  if (!format) return;
  var money = null;
  import(new URL("money.js", document.currentScript.src).href).then(function (module) {
    money = function (pence) { return module.formatMoney(pence, format); };
    update();
  });
  function update() {
    var places = Number(select.value);
    if (!(places >= 1) || !money) return;
    out.textContent = money(places * placePence);
  }
  select.addEventListener("change", update);
  select.addEventListener("input", update);
})();
