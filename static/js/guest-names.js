// The buy form's names on tickets: one optional name field per ticket chosen, kept in step with the quantities.
// Fields are numbered as the server issues tickets (type by type, in the form's order: orders.forms.guest_names).
// A name typed for a ticket that is then unchosen comes back if it is chosen again. Without this script the form
// has a field per ticket chosen when it was shown, and the order page takes names after paying.
(function () {
  "use strict";
  var form = document.querySelector(".buy-form");
  var fieldset = form && form.querySelector(".guest-names");
  var template = document.getElementById("guest-name-template");
  if (!fieldset || !template) return;
  var list = fieldset.querySelector(".guest-name-fields");
  var kept = [];

  function chosenTypes() {
    var types = [];
    form.querySelectorAll("select[name^='quantity_']").forEach(function (select) {
      var label = document.getElementById("type-" + select.name.slice("quantity_".length));
      var count = Math.max(0, Number(select.value) || 0);
      for (var i = 0; i < count; i++) types.push(label ? label.textContent : "");
    });
    return types;
  }

  function newField(position) {
    var html = template.innerHTML
      .replace(/GUEST_POSITION/g, String(position))
      .replace(/GUEST_NUMBER/g, String(position + 1));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.querySelector(".guest-name");
    if (kept[position]) row.querySelector("input").value = kept[position];
    return row;
  }

  function sync() {
    var types = chosenTypes();
    var rows = list.querySelectorAll(".guest-name");
    for (var i = rows.length - 1; i >= types.length; i--) {
      kept[i] = rows[i].querySelector("input").value;
      rows[i].remove();
    }
    for (var j = rows.length; j < types.length; j++) list.appendChild(newField(j));
    list.querySelectorAll(".guest-type").forEach(function (hint, position) {
      hint.textContent = types[position] || "";
    });
    list.querySelectorAll(".guest-name label").forEach(function (label) {
      label.textContent = types.length === 1 ? label.dataset.one : label.dataset.many;
    });
    fieldset.hidden = types.length === 0;
  }

  form.addEventListener("change", function (event) {
    if (event.target.name && event.target.name.indexOf("quantity_") === 0) sync();
  });
  sync();
})();
