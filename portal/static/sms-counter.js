// Counts an SMS as it is typed: the rules of portal/domain/websms.py (GSM-7 160/153, UCS-2 70/67).
(function () {
  var B = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
    E = "^{}\\[~]|€";
  function parts(t) {
    var c, g = true, u = [], n = 0, k = 1, x = 0;
    for (c of t) if (B.indexOf(c) < 0 && E.indexOf(c) < 0) g = false;
    for (c of t) u.push(g ? (E.indexOf(c) < 0 ? 1 : 2) : (c.codePointAt(0) > 65535 ? 2 : 1));
    u.forEach(function (v) { n += v; });
    var one = g ? 160 : 70, per = g ? 153 : 67;
    if (n <= one) return [g, n ? 1 : 0, one - n];
    u.forEach(function (v) { if (x + v > per) { k++; x = 0; } x += v; });
    return [g, k, per - x];
  }
  function show() {
    var t = document.getElementById("sms-text"), o = document.getElementById("sms-counter");
    if (!t || !o) return;
    var v = t.value.replace(/\r\n/g, "\n"), r = parts(v), d = o.dataset;
    o.textContent = d.template.replace("{chars}", Array.from(v).length).replace("{parts}", r[1])
      .replace("{encoding}", r[0] ? d.gsm7 : d.ucs2).replace("{left}", r[2]);
    o.hidden = false;
  }
  document.addEventListener("input", function (e) { if (e.target.id === "sms-text") show(); });
  document.addEventListener("htmx:afterSettle", show);
  show();
})();
