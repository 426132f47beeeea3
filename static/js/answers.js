// Answers and notes on the checklist page: kept on this device until the server acknowledges them.
//
// Every change goes first into an outbox in localStorage, one entry per audit, kind and item, then to
// the server. localStorage rather than IndexedDB: its write is synchronous, so the answer is on the
// device before the event handler returns, even when the tab is closed the next instant (an IndexedDB
// transaction still running at unload can be lost); a checklist's answers are a few kilobytes, far
// within its quota; and it needs no schema or upgrade path.
//
// An entry leaves the outbox only when a 2xx reply acknowledged exactly its value. A failure (no
// network, server stopped, 5xx, a sign-in redirect) keeps it, shown "not yet saved", and it is sent
// again with backoff, on `online`, on focus, and on the next page load, which also puts the unsent
// value back on the page. An expired form token (400 request.csrf: the page stayed open past the token's
// lifetime) is renewed from a fresh copy of this page and the answer sent again at once; only a second
// refusal is shown, in the server's words. Answered refusals are shown beside the item and never retried: a stale save
// (409 answer.stale: another tab changed the answer) shows the stored value; 403/404/409/422 show
// the server's words.
(function () {
  "use strict";
  var PREFIX = "pantau.outbox.";
  var REFUSALS = [403, 404, 409, 413, 422];
  var summary = document.querySelector("[data-outbox-summary]");
  if (!summary) return;  // a read-only audit: nothing to send
  var store = null, session = null;
  try { store = window.localStorage; session = window.sessionStorage; store.length; } catch (e) { store = session = null; }
  var T = summary.dataset, audit = T.audit;
  var inflight = null, timers = {}, retryTimer = null, backoff = 0, unsent = {};
  // Each tab sends only its own entries (two tabs on one draft must not send each other's answers);
  // the tab's id survives a reload (sessionStorage), and a closed tab's entries are adopted by the
  // next page of the audit once its heartbeat is older than DEAD_MS.
  var ALIVE = PREFIX + "alive.", DEAD_MS = 10000;
  var tab = (session && session.getItem("pantau.tab")) || Math.random().toString(36).slice(2, 10);
  try { session.setItem("pantau.tab", tab); } catch (e) { /* a new id each load: entries are adopted */ }
  var mine = PREFIX + audit + "." + tab + ".";
  // "Duplicate tab" copies sessionStorage: two tabs would share an id and send each other's answers.
  // A new page asks whether its id is in use; a tab already running says so, and the new one renames.
  var settledId = false;
  if (window.BroadcastChannel) {
    var channel = new BroadcastChannel("pantau.answers.tabs");
    channel.onmessage = function (e) {
      var data = e.data || {};
      if (data.hello === tab && settledId) channel.postMessage({ taken: tab });
      else if (data.taken === tab && !settledId) {
        tab = Math.random().toString(36).slice(2, 10);
        try { session.setItem("pantau.tab", tab); } catch (err) { /* kept in memory */ }
        mine = PREFIX + audit + "." + tab + ".";
      }
    };
    channel.postMessage({ hello: tab });
  }

  function keyOf(kind, item) { return mine + kind + "." + item; }
  // A full or refused storage (quota, a private window) must not stop the answer from being sent:
  // the entry then lives in memory, for this page only.
  var memory = {};
  function read(key) {
    if (key in memory) return memory[key];
    try { return JSON.parse(store.getItem(key)); } catch (e) { return null; }
  }
  function write(key, entry) {
    try { store.setItem(key, JSON.stringify(entry)); delete memory[key]; } catch (e) { memory[key] = entry; }
  }
  function remove(key) { delete memory[key]; try { store.removeItem(key); } catch (e) { /* nothing stored */ } }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  function stored(prefix) {
    var out = Object.keys(memory).filter(function (key) { return key.indexOf(prefix) === 0; });
    for (var i = 0; store && i < store.length; i++) {
      var key = store.key(i);
      if (key && key.indexOf(prefix) === 0 && out.indexOf(key) < 0) out.push(key);
    }
    return out;
  }

  function keys() {
    return stored(mine).sort(function (a, b) { return (read(a) || {}).at - (read(b) || {}).at; });
  }

  function beat() { try { store.setItem(ALIVE + tab, String(Date.now())); } catch (e) { /* memory only */ } }

  // Entries of tabs that are gone become this tab's; the newest value of an item wins.
  function adopt() {
    var now = Date.now(), adopted = 0;
    stored(ALIVE).forEach(function (key) { if (now - Number(store.getItem(key)) > 86400000) remove(key); });
    stored(PREFIX + audit + ".").forEach(function (key) {
      var owner = key.slice(PREFIX.length + audit.length + 1).split(".")[0];
      if (owner === tab || now - Number(store.getItem(ALIVE + owner) || 0) < DEAD_MS) return;
      var entry = read(key), own = entry && keyOf(entry.kind, entry.item), held = own && read(own);
      if (entry && (!held || held.at < entry.at)) { write(own, entry); adopted++; }
      remove(key);
    });
    return adopted;
  }

  function kindOf(form) { return form.hasAttribute("data-note-form") ? "note" : "answer"; }
  function formOf(kind, item) {
    return document.querySelector("form[data-" + kind + "-form][data-item='" + CSS.escape(item) + "']");
  }
  function feedbackOf(kind, item) { return document.getElementById((kind === "note" ? "note-fb-" : "fb-") + item); }

  function fieldsOf(form) {
    var fields = [];
    new FormData(form).forEach(function (value, name) { if (name !== "base_version") fields.push([name, String(value)]); });
    return fields;
  }

  // Put an unsent value back into the form, as the auditor left it.
  function fill(form, fields) {
    form.querySelectorAll("input[name], textarea[name]").forEach(function (el) {
      if (el.name === "base_version") return;
      var values = fields.filter(function (f) { return f[0] === el.name; }).map(function (f) { return f[1]; });
      if (el.type === "radio" || el.type === "checkbox") el.checked = values.indexOf(el.value) >= 0;
      else if (!(el.type === "hidden" && el.value === "" && el.closest(".choices"))) el.value = values.length ? values[0] : "";
    });
  }

  // Data attributes, not classes: htmx's settle step puts a swapped element's classes back.
  function mark(kind, item, state, message) {
    var fb = feedbackOf(kind, item);
    if (!fb) return;
    fb.dataset.state = state;
    fb.textContent = "";
    var span = document.createElement("span");
    span.className = state === "refused" ? "error-text" : "outbox-text";
    span.textContent = message;
    fb.appendChild(span);
    var article = fb.closest(".item");
    if (article) {
      if (state === "refused") delete article.dataset.outbox;
      else article.dataset.outbox = state;
    }
  }

  function settled(kind, item) {
    var fb = feedbackOf(kind, item), article = fb && fb.closest(".item");
    if (article && !read(keyOf("answer", item)) && !read(keyOf("note", item))) delete article.dataset.outbox;
  }

  function showSummary() {
    var n = Object.keys(unsent).filter(function (k) { return read(k); }).length;
    summary.hidden = n === 0;
    summary.textContent = n ? T.summary.replace("{n}", String(n)) : "";
  }

  function record(form, delay) {
    var kind = kindOf(form), item = form.dataset.item, key = keyOf(kind, item), fields = fieldsOf(form);
    var old = read(key);
    if (!old && form._acked === JSON.stringify(fields)) return;  // a change event after the typing was saved
    var baseInput = form.querySelector("[data-base-version]");
    write(key, { kind: kind, item: item, url: form.action, fields: fields, at: old ? old.at : Date.now(),
                 base: old ? old.base : (baseInput ? Number(baseInput.value) : null), tried: old ? old.tried : [] });
    mark(kind, item, unsent[key] ? "unsent" : "sending", unsent[key] ? T.unsent : T.sending);
    clearTimeout(timers[key]);
    timers[key] = setTimeout(function () { delete timers[key]; flush(key); }, delay);
  }

  // One request at a time: the answer just given first, then the oldest waiting.
  function flush(preferred) {
    if (inflight) return;
    var waiting = keys().filter(function (k) { return !timers[k]; });
    var next = waiting.indexOf(preferred) >= 0 ? preferred : waiting[0];
    if (next) send(next);
  }

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function send(key) {
    var entry = read(key);
    // Remember what was sent: if the reply is lost, the server may have stored it (see stale()).
    entry.tried = (entry.tried || []).concat([JSON.stringify(entry.fields)]).slice(-5);
    write(key, entry);
    var body = new URLSearchParams();
    entry.fields.forEach(function (f) { body.append(f[0], f[1]); });
    if (entry.kind === "answer" && entry.base !== null && entry.base !== undefined) body.append("base_version", String(entry.base));
    inflight = key;
    var abort = new AbortController(), timeout = setTimeout(function () { abort.abort(); }, 20000);
    // redirect "manual": a sign-in page after an expired session must not pass for an acknowledgment.
    fetch(entry.url, { method: "POST", body: body, credentials: "same-origin", redirect: "manual", signal: abort.signal,
                       headers: { "HX-Request": "true", "X-CSRFToken": csrf() } })
      .then(function (r) { return r.text().then(function (html) { return { r: r, html: html }; }); })
      .then(function (res) { clearTimeout(timeout); inflight = null; answered(key, entry, res.r, res.html); },
            function () { clearTimeout(timeout); inflight = null; failed(key, entry, T.unsent); });
  }

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  // The token every request of this page sends (hx-headers on <body>, and the forms' hidden fields), taken
  // from a fresh copy of the page: one renewal at a time, shared by the answers that wait for it.
  var renewing = null;
  function renewToken() {
    if (!renewing) {
      renewing = fetch(window.location.href, { credentials: "same-origin", redirect: "manual", cache: "no-store" })
        .then(function (r) { if (!r.ok) throw new Error("status " + r.status); return r.text(); })
        .then(function (html) {
          var headers = new DOMParser().parseFromString(html, "text/html").body.getAttribute("hx-headers");
          var token = JSON.parse(headers)["X-CSRFToken"];
          if (!token) throw new Error("no token");
          document.body.setAttribute("hx-headers", headers);
          document.querySelectorAll("input[name=csrf_token]").forEach(function (input) { input.value = token; });
        })
        .finally(function () { renewing = null; });
    }
    return renewing;
  }

  function answered(key, entry, r, html) {
    if (r.ok) return acknowledged(key, entry, html);
    if (r.status === 409 && r.headers.get("X-Problem-Code") === "answer.stale") return stale(key, entry, html);
    var problem = parse(html).querySelector("[data-error-code]");
    var words = problem ? problem.textContent.trim() : "";
    if (r.status === 400 && problem && problem.getAttribute("data-error-code") === "request.csrf" && !entry.renewed) {
      entry.renewed = true;  // once per entry: a token refused again is said, not renewed in a loop
      write(key, entry);
      inflight = key;  // nothing else is sent with the old token meanwhile
      return renewToken().then(function () { inflight = null; flush(key); },
                               function () { inflight = null; failed(key, entry, words + " " + T.unsent); });
    }
    if (REFUSALS.indexOf(r.status) >= 0) return refused(key, entry, words || T.refused);
    if (r.type === "opaqueredirect" || r.status === 401) return failed(key, entry, T.signedOut);
    failed(key, entry, words ? words + " " + T.unsent : T.unsent);  // 400 (expired form), 5xx, 429
  }

  function acknowledged(key, entry, html) {
    var fbId = (entry.kind === "note" ? "note-fb-" : "fb-") + entry.item;
    var reply = parse(html).getElementById(fbId);
    if (!reply) return failed(key, entry, T.unsent);  // a 2xx that is not our reply acknowledges nothing
    backoff = 0;
    var current = read(key), form = formOf(entry.kind, entry.item), version = reply.getAttribute("data-version");
    if (form && version !== null) form.querySelector("[data-base-version]").value = version;
    var done = current && same(current.fields, entry.fields);
    if (done) {
      remove(key);
      delete unsent[key];
      if (form) form._acked = JSON.stringify(entry.fields);
    } else if (current && version !== null) {
      current.base = Number(version);  // the newer value typed meanwhile builds on what was just stored
      write(key, current);
    }
    var target = feedbackOf(entry.kind, entry.item), article = target && target.closest(".item");
    if (article && entry.kind === "answer") article.classList.toggle("has-problem", reply.getAttribute("data-state") === "problem");
    if (target) htmx.swap(target, html, { swapStyle: "outerHTML" });
    if (current && !done) mark(entry.kind, entry.item, unsent[key] ? "unsent" : "sending", unsent[key] ? T.unsent : T.sending);
    else settled(entry.kind, entry.item);
    showSummary();
    flush();
  }

  function stale(key, entry, html) {
    // The stored value is one this tab sent earlier whose reply never came (server stopped, timeout):
    // not another tab's change. Build on the version it got and send the newest value again.
    var current = read(key), storedForm = parse(html).querySelector("form[data-answer-form]");
    var storedVersion = storedForm && storedForm.querySelector("[data-base-version]");
    if (current && storedVersion && (current.tried || []).indexOf(JSON.stringify(fieldsOf(storedForm))) >= 0) {
      current.base = Number(storedVersion.value);
      current.tried = [];
      write(key, current);
      return flush(key);
    }
    remove(key);
    delete unsent[key];
    clearTimeout(timers[key]);
    delete timers[key];
    var article = document.getElementById("item-" + entry.item);
    if (article) htmx.swap(article, html, { swapStyle: "outerHTML" });
    showSummary();
    flush();
  }

  function refused(key, entry, words) {
    remove(key);
    delete unsent[key];
    mark(entry.kind, entry.item, "refused", words);
    showSummary();
    flush();
  }

  function failed(key, entry, words) {
    var state = words === T.signedOut ? "signed-out" : "unsent";
    if (read(key)) {
      unsent[key] = true;
      mark(entry.kind, entry.item, state, words);
    }
    // What waits behind it cannot get through either: say so now, not after its own attempt.
    keys().forEach(function (other) {
      var waiting = read(other);
      if (other === key || timers[other] || !waiting) return;
      unsent[other] = true;
      mark(waiting.kind, waiting.item, state, state === "unsent" ? T.unsent : T.signedOut);
    });
    showSummary();
    if (retryTimer) return;  // answers given while waiting do not lengthen the wait
    backoff = Math.min(backoff ? backoff * 2 : 1000, 10000);
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, backoff);
  }

  function retryNow() {
    if (!keys().length) return;
    clearTimeout(retryTimer);
    retryTimer = null;
    flush();
  }

  // Entries left from an earlier visit: their values go back on the page, marked unsent, and are sent.
  function restore(root) {
    keys().forEach(function (key) {
      var entry = read(key), form = entry && formOf(entry.kind, entry.item);
      if (!form || !root.contains(form)) return;
      fill(form, entry.fields);
      var details = form.closest("details");
      if (details) details.open = true;  // an unsent note is shown, not folded away
      unsent[key] = true;
      mark(entry.kind, entry.item, "unsent", T.unsent);
    });
    showSummary();
  }

  document.addEventListener("input", function (e) {
    var form = e.target.closest && e.target.closest("form[data-typed]");
    if (form && (form.hasAttribute("data-answer-form") || form.hasAttribute("data-note-form"))) record(form, 700);
  });
  document.addEventListener("change", function (e) {
    var form = e.target.closest && e.target.closest("[data-answer-form], [data-note-form]");
    if (form) record(form, 0);
  });
  document.addEventListener("submit", function (e) {
    var form = e.target.closest && e.target.closest("[data-answer-form], [data-note-form]");
    if (form) { e.preventDefault(); record(form, 0); }
  });
  // Removing an entry of a repeat moves the later entries up: an answer still waiting in the outbox would then
  // land in another entry. So the removal waits until every answer of that repeat has been saved.
  document.addEventListener("htmx:confirm", function (e) {
    var button = e.target && e.target.closest && e.target.closest("[data-remove-entry]");
    if (!button) return;
    var inside = button.dataset.removeEntry + "[";
    var waiting = stored(PREFIX + audit + ".").some(function (key) {
      var entry = read(key);
      return entry && typeof entry.item === "string" && entry.item.indexOf(inside) === 0;
    });
    if (!waiting) return;
    e.preventDefault();
    var slot = button.closest("section.repeat").querySelector(":scope > [data-error-slot]");
    if (slot) {
      slot.hidden = false;
      slot.className = "error-text";
      slot.setAttribute("role", "alert");
      slot.textContent = T.removeWaiting;
    }
  });
  window.addEventListener("online", retryNow);
  window.addEventListener("focus", retryNow);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") retryNow(); });
  window.addEventListener("beforeunload", function (e) {
    if (keys().length || inflight) { e.preventDefault(); e.returnValue = ""; }
  });

  // Start once the tab's id is settled (a duplicated tab must not restore and send another tab's answers).
  function start() {
    settledId = true;
    beat();
    setInterval(function () {
      beat();
      if (adopt()) { restore(document); flush(); }
    }, 3000);
    adopt();
    restore(document);
    htmx.onLoad(function (root) { if (root !== document.body) restore(root); });
    flush();
  }
  if (window.BroadcastChannel) setTimeout(start, 300); else start();
})();
