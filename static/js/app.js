// Pantau KLA page behaviour. No inline script anywhere (the CSP forbids it): everything hooks on data-* attributes.
(function () {
  "use strict";

  // A facility's position: the best reading of up to 30 s (gps.js), left as "± N m" in the status line.
  function locate(statusEl, onPosition) {
    var en = document.documentElement.lang === "en";
    var t = en
      ? { none: "This device cannot give a position. Type the coordinates instead.",
          off: "This device gives no position here (location off or no GPS). Type the coordinates instead.",
          noFix: "No position in {s} s. Type the coordinates instead." }
      : { none: "Perangkat ini tidak dapat memberi posisi. Ketik koordinat secara manual.",
          off: "Perangkat ini tidak memberi posisi di sini (lokasi mati atau tanpa GPS). Ketik koordinat secara manual.",
          noFix: "Tidak ada posisi dalam {s} dtk. Ketik koordinat secara manual." };
    window.PantauGps.readBest(statusEl, { waitMs: 30000, showAccuracy: true, none: t.none, off: t.off, noFix: t.noFix,
                                          onPosition: function (pos) { onPosition(pos.coords); } });
  }

  document.addEventListener("click", function (event) {
    var locateButton = event.target.closest("[data-locate]");
    if (locateButton) {
      var form = locateButton.closest("form");
      locate(form.querySelector("[data-locate-status]"), function (c) {
        form.querySelector("[name=lat]").value = c.latitude.toFixed(6);
        form.querySelector("[name=lon]").value = c.longitude.toFixed(6);
        if (window.htmx) { window.htmx.trigger(form, "locate"); } else { form.submit(); }
      });
      return;
    }
    var fillButton = event.target.closest("[data-fill-position]");
    if (fillButton) {
      var f = fillButton.closest("form");
      locate(f.querySelector("[data-locate-status]"), function (c) {
        f.querySelector("[name=lat]").value = c.latitude.toFixed(6);
        f.querySelector("[name=lon]").value = c.longitude.toFixed(6);
      });
    }
  });
})();

// Forms that need a confirmation before a plain (non-htmx) submit.
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) { event.preventDefault(); }
}, true);

// A select marked data-autosubmit sends its form when changed (filters).
document.addEventListener("change", function (event) {
  if (event.target.matches && event.target.matches("select[data-autosubmit]")) { event.target.form.submit(); }
});

// Every refused htmx request is shown. htmx 2 swaps nothing for a 4xx/5xx answer and nothing at all when the
// request never reached the app, so without this a refusal (a photo that is not a photo, garbage coordinates,
// an audit submitted in another tab) left the page unchanged and "Uploading photo…" on screen forever.
// Event handlers, not htmx's `responseHandling` config: swapping the error into the element's own hx-target
// would replace the item card or position panel the user is working in, and a network failure has no
// response to swap at all. Here one place puts the server's message (already in the user's language) beside
// the control that caused it, clears it on the next success, and resets busy states.
// Answer and note saves are not handled here: their outbox (answers.js) shows their refusals itself.
(function () {
  "use strict";
  var OWN_FEEDBACK = "[data-answer-form], [data-note-form]";

  function text(name, id, en) {
    // Texts rendered by the server through gettext (data-* on <body>), with a fallback in both languages.
    var fromPage = document.body && document.body.getAttribute("data-msg-" + name);
    return fromPage || (document.documentElement.lang === "en" ? en : id);
  }

  function scopeOf(elt) {
    return (elt.closest && elt.closest("form")) || elt;
  }

  function slotOf(elt, create) {
    var scope = scopeOf(elt);
    var slot = scope.querySelector && scope.querySelector("[data-error-slot]");
    if (slot) return slot;
    var next = scope.nextElementSibling;
    if (next && next.hasAttribute("data-refusal")) return next;
    if (!create || !scope.parentNode) return null;
    slot = document.createElement("p");
    slot.setAttribute("data-refusal", "");
    scope.parentNode.insertBefore(slot, scope.nextSibling);
    return slot;
  }

  function refusalOf(xhr) {
    // The server's refusal: the htmx error fragment (templates/errors/fragment.html) or the JSON of the API.
    var body = (xhr && xhr.responseText) || "";
    try {
      var json = JSON.parse(body);
      if (json && json.error && json.error.message) return { code: json.error.code || "", message: json.error.message };
    } catch (ignored) { /* not JSON: HTML */ }
    var doc = new DOMParser().parseFromString(body, "text/html");
    var found = doc.querySelector("[data-error-code]");
    if (found && found.textContent.trim()) {
      return { code: found.getAttribute("data-error-code"), message: found.textContent.trim() };
    }
    var status = xhr ? xhr.status : 0;
    return { code: "http." + status, message: text("server", "Aplikasi menolak permintaan ini (HTTP " + status + "). Muat ulang halaman lalu coba lagi.",
      "The app refused this request (HTTP " + status + "). Reload the page and try again.").replace("%(status)s", status) };
  }

  function resetBusy(scope) {
    // What a request in flight changed: the upload status text, the chosen file (so choosing it again fires
    // a change), buttons htmx disabled (htmx re-enables those it disabled; others are ours to free).
    scope.querySelectorAll("[data-upload-status]").forEach(function (el) { el.textContent = ""; });
    scope.querySelectorAll("input[type=file]").forEach(function (el) { el.value = ""; });
    scope.querySelectorAll("[data-busy]").forEach(function (el) { el.disabled = false; el.removeAttribute("data-busy"); });
  }

  function show(elt, refusal) {
    var slot = slotOf(elt, true);
    if (!slot) return;
    slot.className = "notice error refusal";
    slot.setAttribute("role", "alert");
    slot.setAttribute("data-error-code", refusal.code);
    slot.hidden = false;
    slot.textContent = refusal.message;
    resetBusy(scopeOf(elt));
  }

  function clear(elt) {
    var slot = slotOf(elt, false);
    if (!slot) return;
    slot.textContent = "";
    slot.removeAttribute("data-error-code");
    slot.removeAttribute("role");
    if (slot.hasAttribute("data-refusal")) slot.remove(); else slot.hidden = true;
  }

  function handled(event) {
    var elt = event.detail && event.detail.elt;
    return elt && elt.closest && !elt.closest(OWN_FEEDBACK) ? elt : null;
  }

  document.addEventListener("htmx:responseError", function (event) {
    var elt = handled(event);
    if (elt) show(elt, refusalOf(event.detail.xhr));
  });
  document.addEventListener("htmx:sendError", function (event) {
    var elt = handled(event);
    if (elt) show(elt, { code: "network.unreachable", message: text("network",
      "Tidak terhubung ke aplikasi — periksa koneksi lalu coba lagi.", "Cannot reach the app — check the connection and try again.") });
  });
  document.addEventListener("htmx:timeout", function (event) {
    var elt = handled(event);
    if (elt) show(elt, { code: "network.timeout", message: text("timeout",
      "Aplikasi tidak menjawab tepat waktu — periksa koneksi lalu coba lagi.", "The app did not answer in time — check the connection and try again.") });
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = handled(event);
    if (elt) clear(elt);
  });
})();

// Submitting a draft whose answers still wait in this device's outbox (answers.js) would leave them out:
// the submit button waits until they have reached the app, and the page says where to send them from.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-outbox-guard]").forEach(function (form) {
    var prefix = "pantau.outbox." + form.getAttribute("data-audit") + ".", waiting = 0;
    try {
      for (var i = 0; i < window.localStorage.length; i++) {
        if ((window.localStorage.key(i) || "").indexOf(prefix) === 0) waiting++;
      }
    } catch (e) { return; }  // no storage here: nothing can be waiting in it
    if (!waiting) return;
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; b.setAttribute("aria-disabled", "true"); });
    var note = document.querySelector("[data-outbox-guard-message]");
    if (note) note.hidden = false;
  });
});
