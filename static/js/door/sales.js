// Selling tickets at the door (online only): the order is paid by cash or card terminal and its tickets are
// admitted at once. A sale rung up by mistake is undone from its result, with a second press to confirm (the
// server allows it for half an hour, once: door_sales.rules).

import { formatMoney } from "../money.js";

const CONFIRM_AFTER_MS = 600;
const CONFIRM_FOR_MS = 10000;

export function createSales(messages, root, sync, verdict, afterSale) {
  const text = messages.text;
  const $ = (id) => document.getElementById(id);
  const form = $("door-sale-form");
  if (!form) return;
  // Written as the server writes amounts (money.py), in the format the page carries (data-money).
  const format = JSON.parse(root.dataset.money);
  const money = { format: (pence) => formatMoney(pence, format) };
  const total = () => {
    const option = $("door-sale-type").selectedOptions[0];
    $("door-sale-total").textContent = money.format(Number(option.dataset.price) * Number($("door-sale-quantity").value));
  };
  form.addEventListener("change", total);
  total();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const out = $("door-sale-result");
    if (!sync.isOnline()) {
      out.textContent = text.sale_needs_network;
      return;
    }
    const option = $("door-sale-type").selectedOptions[0];
    const quantity = Number($("door-sale-quantity").value);
    const method = form.querySelector("input[name=payment_method]:checked").value;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    sync
      .api("POST", "/api/events/" + encodeURIComponent(root.dataset.slug) + "/door-sales", {
        items: [{ ticket_type: Number(option.value), quantity: quantity }],
        payment_method: method,
        buyer_name: $("door-sale-name").value.trim(),
      })
      .then((response) => {
        if (response.status !== 201 && response.status !== 200) {
          out.textContent = response.data.detail || text.server_problem;
          return;
        }
        const order = response.data;
        const heading = document.createElement("p");
        heading.textContent = messages.say(text.sold, {
          count: quantity,
          type: option.dataset.name,
          total: money.format(order.total_pence),
          method: text[method] || method,
          reference: order.reference,
        });
        const list = document.createElement("ul");
        list.className = "door-sold";
        for (const ticket of order.tickets) {
          const item = document.createElement("li");
          item.textContent = ticket.holder + " · " + ticket.type + " · " + ticket.secret;
          list.append(item);
        }
        out.replaceChildren(heading, list, undoButton(order, option.dataset.name, quantity, method, out));
        verdict.show({ ok: true, holder: quantity + " × " + option.dataset.name, type: money.format(order.total_pence) }, "sale");
        $("door-sale-name").value = "";
        afterSale();
      })
      .catch(() => {
        out.textContent = text.sale_needs_network;
      })
      .then(() => {
        button.disabled = false;
      });
  });

  function undoButton(order, typeName, quantity, method, out) {
    const undo = document.createElement("button");
    undo.type = "button";
    undo.className = "door-undo secondary";
    undo.textContent = text.undo_sale;
    const total = money.format(order.total_pence);
    // The second press confirms, once the amount has been on screen for a moment (a double tap does not undo), and
    // only for a while (a confirm left on screen does not wait for a stray tap later).
    let armedAt = 0;
    let disarm = null;
    undo.addEventListener("click", () => {
      if (undo.dataset.armed !== "true" || Date.now() - armedAt < CONFIRM_AFTER_MS) {
        if (undo.dataset.armed === "true") return;
        undo.dataset.armed = "true";
        armedAt = Date.now();
        undo.textContent = messages.say(text.undo_confirm, { total: total });
        disarm = setTimeout(() => {
          undo.dataset.armed = "false";
          undo.textContent = text.undo_sale;
        }, CONFIRM_FOR_MS);
        return;
      }
      clearTimeout(disarm);
      if (!sync.isOnline()) {
        out.append(paragraph(text.sale_needs_network));
        return;
      }
      undo.disabled = true;
      const path = "/api/events/" + encodeURIComponent(root.dataset.slug) + "/door-sales/" + encodeURIComponent(order.reference) + "/undo";
      sync
        .api("POST", path)
        .then((response) => {
          if (response.status !== 200) {
            out.replaceChildren(paragraph((response.data && response.data.detail) || text.server_problem));
            return;
          }
          const done = paragraph(
            messages.say(text.undone, { reference: order.reference, total: total, method: text[method] || method, count: quantity, type: typeName }),
          );
          done.className = "notice";
          out.replaceChildren(done);
          afterSale();
        })
        .catch(() => {
          undo.disabled = false;
          out.append(paragraph(text.sale_needs_network));
        });
    });
    return undo;
  }

  function paragraph(words) {
    const p = document.createElement("p");
    p.textContent = words;
    return p;
  }
}
