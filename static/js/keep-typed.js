// A guest who switches language half-way through a form keeps what they typed. The header's language links load the
// page again in the other language (/language/xx?next=...); before one is followed, the fields of the page's forms
// marked data-keep-typed are kept in this tab's sessionStorage under the page it leads back to, and that page puts
// them back once, into its marked form that posts to the same address, by field name, then forgets them. Hidden
// fields are kept too (the questions step carries the buy form's choices in them, and posts where the buy form does)
// but never the CSRF token; nothing is sent anywhere. What the page has no field for (the answers of the questions
// step, which the switch leads back to the event page) is kept once more for the page its form's address answers
// with: the questions step, when the guest goes on from the event page in their new language.
(function () {
  "use strict";
  var PREFIX = "events:kept:";
  var storage;
  try {
    storage = window.sessionStorage;
  } catch (error) {
    return; // storage switched off: the switch works as before, without the typing
  }

  function keep(link) {
    var next = new URL(link.href, location.href).searchParams.get("next");
    var forms = document.querySelectorAll("form[data-keep-typed]");
    if (!next || !forms.length) return;
    var kept = [];
    forms.forEach(function (form) {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!field.name || field.name === "_csrf_token" || field.disabled) return;
        if (field.type === "password" || field.type === "submit" || field.type === "button" || field.type === "file") return;
        if ((field.type === "checkbox" || field.type === "radio") && !field.checked) return;
        kept.push([form.getAttribute("action"), field.name, field.value]);
      });
    });
    if (kept.length) storage.setItem(PREFIX + next, JSON.stringify(kept));
  }

  function restore() {
    var key = PREFIX + location.pathname;
    var raw = storage.getItem(key);
    if (raw === null) return;
    storage.removeItem(key);
    var kept;
    try {
      kept = JSON.parse(raw);
    } catch (error) {
      return;
    }
    var forms = {};
    document.querySelectorAll("form[data-keep-typed]").forEach(function (form) {
      forms[form.getAttribute("action")] = form;
    });
    var later = {};
    // Choices first (a quantity adds the fields for its guests' names), then everything else.
    [true, false].forEach(function (choicesPass) {
      kept.forEach(function (entry) {
        var form = forms[entry[0]];
        var field = form && form.elements.namedItem(entry[1]);
        if (!field) {
          if (choicesPass || !form) return;
          var answeredOn = new URL(entry[0], location.href).pathname;
          if (answeredOn !== location.pathname) (later[answeredOn] = later[answeredOn] || []).push(entry);
          return;
        }
        var isChoice = field.tagName === "SELECT";
        if (isChoice !== choicesPass) return;
        if (field instanceof RadioNodeList) {
          Array.prototype.forEach.call(field, function (one) {
            if (one.value === entry[2]) one.checked = true;
          });
        } else if (field.type === "checkbox" || field.type === "radio") {
          field.checked = field.value === entry[2];
        } else if (field.type !== "hidden") {
          field.value = entry[2];
        }
        if (isChoice) field.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
    Object.keys(later).forEach(function (path) {
      storage.setItem(PREFIX + path, JSON.stringify(later[path]));
    });
  }

  document.querySelectorAll("details.languages a[href^='/language/'], .language-choice a[href^='/language/']").forEach(function (link) {
    link.addEventListener("click", function () {
      keep(link);
    });
  });
  restore();
})();
