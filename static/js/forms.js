// A form that came back with problems: put the focus on its error summary (the buy form's, as GOV.UK's error
// summary does: it lists every problem with a link to each field), or on the buy form's one problem that has no field
// (sold out meanwhile, a limit), else on the first field that needs fixing, so keyboard and screen-reader users start
// there (the field's aria-describedby reads out its message). A buy form reopened to change an order starts at its
// notice, above the choices filled in.
(function () {
  "use strict";
  var start = document.querySelector(
    "main .error-summary[tabindex='-1'], main #buy-error[tabindex='-1'], main [aria-invalid='true'], main #order-changed[tabindex='-1']"
  );
  if (start) start.focus();
})();
