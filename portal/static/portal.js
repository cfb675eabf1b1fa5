/* Small enhancements; every page works without them. */
(function () {
  "use strict";
  // The number switcher submits as soon as a number is chosen (without JS a button does it).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-autosubmit]") && field.form) {
      field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
    }
  });
  // Blocks marked hx-trigger="portal:back from:body" refresh when the tab comes back after a while.
  var hiddenAt = 0;
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      hiddenAt = Date.now();
    } else if (hiddenAt && Date.now() - hiddenAt > 30000 && document.body) {
      document.body.dispatchEvent(new CustomEvent("portal:back"));
    }
  });
})();
