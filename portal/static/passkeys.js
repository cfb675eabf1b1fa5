/* Passkeys (WebAuthn) for forms marked data-passkey="register" or "sign-in": the browser makes or uses the key,
   the server checks everything. Without WebAuthn the forms stay hidden; the pages say so without JS. */
(function () {
  "use strict";
  if (window.portalPasskeys || !window.PublicKeyCredential) return;
  window.portalPasskeys = true;
  var waiting = null;  // the conditional (autofill) request, ended when a button is pressed
  function buffer(text) {
    var s = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
    var out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out.buffer;
  }
  function text(buf) {
    var s = "", bytes = new Uint8Array(buf);
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function post(url, body) {
    var meta = document.querySelector("meta[name=csrf-token]");
    return fetch(url, {method: "POST", credentials: "same-origin", body: JSON.stringify(body || {}),
                       headers: {"Content-Type": "application/json", "X-CSRFToken": meta ? meta.content : ""}})
      .then(function (r) {
        return r.json().then(function (data) { if (!r.ok) throw new Error(data.error); return data; });
      });
  }
  function asJson(c) {
    var r = c.response, out = {id: c.id, rawId: text(c.rawId), type: c.type, response: {},
                               clientExtensionResults: c.getClientExtensionResults()};
    ["clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle"].forEach(function (k) {
      if (r[k]) out.response[k] = text(r[k]);
    });
    if (r.getTransports) out.response.transports = r.getTransports();
    if (c.authenticatorAttachment) out.authenticatorAttachment = c.authenticatorAttachment;
    return out;
  }
  function ids(list) { (list || []).forEach(function (c) { c.id = buffer(c.id); }); }
  function ask(form, options, extra) {
    options.challenge = buffer(options.challenge);
    if (options.user) {
      options.user.id = buffer(options.user.id);
      ids(options.excludeCredentials);
      return navigator.credentials.create({publicKey: options});
    }
    ids(options.allowCredentials);
    return navigator.credentials.get(Object.assign({publicKey: options}, extra));
  }
  function run(form, extra, quiet) {
    var error = form.querySelector("[data-passkey-error]"), name = form.elements.name;
    if (error) error.hidden = true;
    return post(form.getAttribute("data-options"))
      .then(function (options) { return ask(form, options, extra); })
      .then(function (credential) {
        return post(form.action, {credential: asJson(credential), name: name ? name.value : undefined});
      })
      .then(function (done) { window.location.assign(done.redirect); })
      .catch(function (err) {
        // The autofill request (quiet) was not asked for by a press: its end, whatever the reason, says nothing.
        if (!error || quiet || (err && err.name === "AbortError")) return;
        // The server's refusal says why; the browser's (cancelled, timed out) gets the page's own sentence.
        error.textContent = (err && err.name === "Error" && err.message) || error.getAttribute("data-failed");
        error.hidden = false;
      });
  }
  function offerAutofill() {
    var form = document.querySelector("form[data-passkey=sign-in][data-conditional]");
    if (!form || waiting || !PublicKeyCredential.isConditionalMediationAvailable) return;
    PublicKeyCredential.isConditionalMediationAvailable().then(function (yes) {
      if (!yes || waiting) return;
      waiting = new AbortController();
      run(form, {mediation: "conditional", signal: waiting.signal}, true);
    });
  }
  function show() {
    document.querySelectorAll("[data-passkey-ui]").forEach(function (el) { el.hidden = false; });
    offerAutofill();
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-passkey]")) return;
    event.preventDefault();
    if (waiting) { waiting.abort(); waiting = null; }
    run(form);
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (waiting) { waiting.abort(); waiting = null; }
    show();
  });
  show();
})();
