// Card payment with Stripe.js: the card never touches our server. On success we go to the order page,
// which also asks Stripe directly, so a slow webhook never keeps the buyer waiting.
// Above the card form, Apple Pay and Google Pay buttons (Stripe's Express Checkout Element) where the device and
// browser offer a wallet; they pay the same PaymentIntent, so the server cannot tell them from a typed card.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form || typeof Stripe === "undefined") return;
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("pay-button");

  function paid() {
    window.location.assign(form.dataset.returnUrl);
  }

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
          paid();
        }
      });
  });

  offerWallets();

  // Feature detection: a Stripe.js without the Express Checkout Element (an old one, or localstripe's stand-in,
  // whose Elements make a card field whatever is asked for) leaves the card form alone.
  function expressCheckout() {
    if (typeof stripe.confirmPayment !== "function") return null;
    try {
      // Elements without an intent (Stripe's "deferred" mode) told the order's amount, currency and the
      // PaymentIntent's one payment method type, so the wallet sheet shows the total and only card wallets appear.
      var elements = stripe.elements({
        mode: "payment",
        amount: Number(form.dataset.amount),
        currency: form.dataset.currency,
        paymentMethodTypes: ["card"],
      });
      if (typeof elements.submit !== "function") return null;
      var element = elements.create("expressCheckout");
      if (!element || typeof element.mount !== "function" || typeof element.on !== "function") return null;
      return { elements: elements, element: element };
    } catch (error) {
      return null;
    }
  }

  function offerWallets() {
    var container = document.getElementById("express-checkout");
    var divider = document.getElementById("pay-by-card");
    if (!container || !form.dataset.amount) return;
    var wallets = expressCheckout();
    if (!wallets) return;
    // Laid out but invisible while Stripe asks the device which wallets it has; shown only if it has one.
    container.hidden = false;
    container.classList.add("express-checkout-pending");
    wallets.element.on("ready", function (event) {
      if (event && event.availablePaymentMethods) {
        container.classList.remove("express-checkout-pending");
        if (divider) divider.hidden = false;
      } else {
        wallets.element.destroy();
        container.hidden = true;
      }
    });
    wallets.element.on("confirm", function (event) {
      button.disabled = true;
      errors.textContent = "";
      wallets.elements
        .submit()
        .then(function (submitted) {
          if (submitted && submitted.error) return submitted;
          return stripe.confirmPayment({
            elements: wallets.elements,
            clientSecret: form.dataset.clientSecret,
            confirmParams: { return_url: new URL(form.dataset.returnUrl, window.location.href).href },
            redirect: "if_required",
          });
        })
        .then(function (result) {
          if (result && result.error) {
            event.paymentFailed({ reason: "fail" });
            errors.textContent = result.error.message;
            button.disabled = false;
          } else {
            paid();
          }
        })
        .catch(function () {
          event.paymentFailed({ reason: "fail" });
          button.disabled = false;
        });
    });
    wallets.element.mount(container);
  }
})();
