// Card payment with Stripe.js: the card never touches our server. On success we go to the order page,
// which also asks Stripe directly, so a slow webhook never keeps the buyer waiting.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form || typeof Stripe === "undefined") return;
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("pay-button");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    errors.textContent = "";
    stripe
      .confirmCardPayment(form.dataset.clientSecret, {
        payment_method: { card: card, billing_details: { name: form.dataset.buyer } },
      })
      .then(function (result) {
        if (result.error) {
          errors.textContent = result.error.message;
          button.disabled = false;
        } else {
          window.location.assign(form.dataset.returnUrl);
        }
      });
  });
})();
