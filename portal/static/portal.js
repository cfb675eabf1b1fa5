/* Small enhancements; every page works without them. */
(function () {
  "use strict";
  // htmx comes after the load event and the first paint: on a 2G link its 15 KB would otherwise hold
  // back the page's largest paint, and every page works without it (a tap before it arrives loads a
  // whole page). A tab opened in the background paints only when shown, hence the timeout.
  var htmxUrl = document.currentScript && document.currentScript.getAttribute("data-htmx");
  var loaded = document.readyState === "complete", painted = false;
  function loadHtmx() {
    if (!loaded || !painted || !htmxUrl || window.htmx) return;
    var script = document.createElement("script");
    script.src = htmxUrl;
    document.head.appendChild(script);
    htmxUrl = null;
  }
  function onPaint() { painted = true; loadHtmx(); }
  var types = window.PerformanceObserver && PerformanceObserver.supportedEntryTypes;
  if (types && types.indexOf("paint") >= 0) {
    new PerformanceObserver(function (list, observer) { observer.disconnect(); onPaint(); })
      .observe({type: "paint", buffered: true});
    setTimeout(onPaint, 3000);
  } else {
    painted = true;
  }
  window.addEventListener("load", function () { loaded = true; loadHtmx(); });
  // The number switcher submits as soon as a number is chosen (without JS a button does it).
  // A file over its field's limit is refused as it is chosen (the server checks again).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-autosubmit]") && field.form) {
      field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
    } else if (field.matches && field.matches("input[type=file][data-max-bytes]") && field.files && field.files[0]
               && field.files[0].size > +field.getAttribute("data-max-bytes")) {
      field.value = "";
      var hint = document.getElementById(field.id + "-hint");
      if (hint) {
        hint.setAttribute("role", "alert");
        hint.className = "hint error";
        hint.textContent = field.getAttribute("data-too-large");
      }
    }
  });
  // A page's own script (data-script) arrives with a boosted navigation too: htmx drops <script> tags.
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-script]").forEach(function (el) {
      var src = el.getAttribute("data-script");
      if (document.querySelector('script[src="' + src + '"]')) return;
      var script = document.createElement("script");
      script.src = src;
      document.head.appendChild(script);
    });
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
