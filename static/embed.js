/* portal embed script: <script src="{BASE}/embed.js" data-portal-form="{slug}" async></script>
 * Inserts the form's iframe after the script tag, resizes it to its content (postMessage,
 * origins checked both ways), passes data-* prefill values, the page URL, the page's language
 * and data-theme-color. Several forms on one page are fine. No dependencies. */
(function () {
  "use strict";
  var OWN = { portalForm: 1, portalEmbedded: 1, themeColor: 1, lang: 1, title: 1 };
  var reg = window.__portalForms = window.__portalForms || { frames: [], listening: false };

  function snake(name) { return name.replace(/[A-Z]/g, function (c) { return "_" + c.toLowerCase(); }); }

  function onMessage(e) {
    for (var i = 0; i < reg.frames.length; i++) {
      var f = reg.frames[i];
      if (e.source !== f.frame.contentWindow || e.origin !== f.base) continue;
      var d = e.data || {};
      if (d.type === "portal-form:height" && typeof d.height === "number") {
        f.frame.style.height = Math.min(Math.max(Math.ceil(d.height), 80), 20000) + "px";
      } else if (d.type === "portal-form:submitted" && typeof d.reference === "string") {
        f.script.dispatchEvent(new CustomEvent("portal-form:submitted", { detail: { reference: d.reference } }));
      }
    }
  }

  function insert(script, base, slug, query, name) {
    var frame = document.createElement("iframe");
    frame.src = base + "/f/" + encodeURIComponent(slug) + "/embed?" + query.toString();
    frame.title = script.getAttribute("data-title") || name || slug;
    frame.className = "portal-form-frame";
    frame.style.width = "100%";
    frame.style.border = "0";
    frame.style.height = "600px";
    frame.style.display = "block";
    reg.frames.push({ frame: frame, base: base, script: script });
    frame.addEventListener("load", function () {
      frame.contentWindow.postMessage({ type: "portal-form:ping" }, base);
    });
    script.parentNode.insertBefore(frame, script.nextSibling);
  }

  function setup(script) {
    if (script.getAttribute("data-portal-embedded")) return;
    script.setAttribute("data-portal-embedded", "1");
    var slug = script.getAttribute("data-portal-form") || "";
    if (!/^[a-z0-9-]+$/.test(slug)) {
      console.error("portal: data-portal-form must name a form (e.g. data-portal-form=\"contact\"); nothing was embedded.");
      return;
    }
    var base = new URL(script.src, location.href).origin;
    var lang = (script.getAttribute("data-lang") || document.documentElement.lang || navigator.language || "tr");
    lang = lang.toLowerCase().slice(0, 2) === "en" ? "en" : "tr";
    var q = new URLSearchParams();
    q.set("lang", lang);
    q.set("origin", location.origin);
    q.set("page_url", location.href.split("#")[0]);
    var theme = script.getAttribute("data-theme-color");
    if (theme) q.set("theme", theme);
    Object.keys(script.dataset).forEach(function (key) {
      if (!OWN[key]) q.set(snake(key), script.dataset[key]);
    });
    fetch(base + "/api/v1/forms/" + encodeURIComponent(slug) + "?lang=" + lang, { credentials: "omit" })
      .then(function (r) {
        if (r.status === 404) {
          console.error("portal: the form \"" + slug + "\" does not exist or is archived; nothing was embedded.");
          return null;
        }
        if (!r.ok) {
          console.error("portal: the form \"" + slug + "\" could not be loaded (HTTP " + r.status + ").");
          return null;
        }
        return r.json();
      })
      .then(function (form) { if (form) insert(script, base, slug, q, form.name); },
        function () {
          console.error("portal: the form \"" + slug + "\" may not be embedded on " + location.origin +
            " (not one of its allowed origins), or " + base + " cannot be reached; nothing was embedded.");
        });
  }

  if (!reg.listening) {
    window.addEventListener("message", onMessage);
    reg.listening = true;
  }
  if (document.currentScript) setup(document.currentScript);
  var all = document.querySelectorAll("script[data-portal-form]");
  for (var i = 0; i < all.length; i++) {
    if (all[i].src && new URL(all[i].src, location.href).pathname === "/embed.js") setup(all[i]);
  }
})();
