/* Request form pages (/f/{slug} and /f/{slug}/embed).
 * 1. A post sooner than 3 s after the page came is held until then (the server takes such posts
 *    for a bot's and drops them), so a quick human with autofill loses nothing; a form with
 *    proof of work (data-altcha) solves its ALTCHA challenge first.
 * 2. data-theme-color on <body> recolours the form (CSSOM: allowed by our CSP).
 * 3. In an iframe: tells the host page its height and, after sending, the reference, only ever to
 *    the origin the server checked (data-parent-origin), and answers only that origin. */
(function () {
  "use strict";
  var body = document.body;
  var MIN_MS = 3200;
  var shown = Date.now();
  function hex(buf) {
    return Array.prototype.map.call(new Uint8Array(buf), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // ALTCHA (v1) proof of work: the number n with sha256(salt + n) == challenge, in batches.
  function solve(c) {
    var enc = new TextEncoder();
    var n = 0;
    return new Promise(function (resolve, reject) {
      function batch() {
        var tries = [];
        for (var i = 0; i < 1000 && n <= c.maxnumber; i++, n++) tries.push(n);
        Promise.all(tries.map(function (k) { return crypto.subtle.digest("SHA-256", enc.encode(c.salt + k)); }))
          .then(function (hashes) {
            for (var j = 0; j < hashes.length; j++) {
              if (hex(hashes[j]) === c.challenge) return resolve(tries[j]);
            }
            if (n > c.maxnumber) return reject(new Error("no solution"));
            batch();
          }, reject);
      }
      batch();
    });
  }

  function proof(form) {
    var field = form.querySelector("input[name=altcha]");
    var raw = form.getAttribute("data-altcha");
    if (!field || !raw || field.value || !window.crypto || !crypto.subtle) return null;
    var c = JSON.parse(raw);
    return solve(c).then(function (number) {
      field.value = btoa(JSON.stringify({ algorithm: c.algorithm, challenge: c.challenge, number: number,
        salt: c.salt, signature: c.signature }));
    });
  }

  body.addEventListener("htmx:confirm", function (e) {
    var form = e.detail.elt;
    if (e.detail.verb !== "post" || !form.classList || !form.classList.contains("request-form")) return;
    var work = proof(form);
    if (!work && Date.now() - shown >= MIN_MS) return;
    e.preventDefault();
    form.setAttribute("aria-busy", "true");
    var go = function () {
      window.setTimeout(function () { e.detail.issueRequest(true); }, Math.max(MIN_MS - (Date.now() - shown), 0));
    };
    (work || Promise.resolve()).then(go, go);  // on failure the server says what is missing
  });
  body.addEventListener("htmx:afterSettle", function () {
    var done = document.getElementById("form-done");
    if (done) done.focus();
  });
  var color = body.getAttribute("data-theme-color") || "";
  if (/^#[0-9a-fA-F]{3,8}$/.test(color)) {
    var s = document.documentElement.style;
    ["--pico-primary", "--pico-primary-background", "--pico-primary-border", "--pico-primary-hover",
      "--pico-primary-hover-background", "--pico-primary-hover-border"].forEach(function (name) {
      s.setProperty(name, color);
    });
  }
  var parentOrigin = body.getAttribute("data-parent-origin") || "";
  if (!parentOrigin || window.parent === window) return;
  var last = -1;

  function send(force) {
    var h = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (h === last && !force) return;
    last = h;
    window.parent.postMessage({ type: "portal-form:height", height: h }, parentOrigin);
  }

  window.addEventListener("message", function (e) {
    if (e.origin !== parentOrigin || e.source !== window.parent) return;
    if (e.data && e.data.type === "portal-form:ping") send(true);
  });
  if (window.ResizeObserver) new ResizeObserver(function () { send(false); }).observe(document.documentElement);
  window.addEventListener("load", function () { send(true); });
  body.addEventListener("htmx:afterSettle", function () {
    send(false);
    var area = document.getElementById("form-area");
    var ref = area && area.getAttribute("data-reference");
    if (ref) window.parent.postMessage({ type: "portal-form:submitted", reference: ref }, parentOrigin);
  });
  send(true);
})();
