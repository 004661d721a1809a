// A form that came back with problems: put the focus on the first field that needs fixing, so keyboard
// and screen-reader users start there (the field's aria-describedby reads out its message).
(function () {
  "use strict";
  var field = document.querySelector("main [aria-invalid='true']");
  if (field) field.focus();
})();
