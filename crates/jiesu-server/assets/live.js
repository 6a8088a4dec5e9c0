// Live updates (server-sent events from /events): the 通知 badge on the nav, and the lists of the
// inbox, dispatch queue, callback list, supervise list and notices page refresh without a reload.
// No inline script (the Content-Security-Policy forbids it); no personal data comes over the
// stream: a change names at most a case id the viewer may see.
"use strict";

(function () {
  // Pages whose <main> is refreshed when something changes.
  var LIVE_PAGES = ["/inbox", "/dispatch", "/callback", "/supervise", "/notices"];
  var DEBOUNCE_MS = 400;

  function badge() {
    var link = document.querySelector('nav.side a[href="/notices"]');
    if (!link) { return null; }
    var b = link.querySelector(".badge");
    if (!b) {
      b = document.createElement("span");
      b.className = "badge";
      b.hidden = true;
      b.setAttribute("aria-label", document.documentElement.lang === "en" ? "Unread notices" : "未读通知");
      link.appendChild(b);
    }
    return b;
  }

  function refreshBadge() {
    var b = badge();
    if (!b) { return; }
    fetch("/notices/count", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (!j) { return; }
        b.textContent = j.unread > 99 ? "99+" : String(j.unread);
        b.hidden = j.unread === 0;
        b.setAttribute("data-unread", String(j.unread));
      })
      .catch(function () {});
  }

  // Forms in refreshed content: one click files once (as console.js does on load).
  function guardForms(root) {
    root.querySelectorAll("form[method=post]").forEach(function (f) {
      f.addEventListener("submit", function () {
        setTimeout(function () {
          f.querySelectorAll("button[type=submit]").forEach(function (x) { x.disabled = true; });
        }, 0);
      });
    });
  }

  // True while the person is working in the page (typing in, or having changed, a field):
  // the refresh waits rather than throw their input away.
  function busy(main) {
    var a = document.activeElement;
    if (a && main.contains(a) && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName)) { return true; }
    return main.querySelector("[data-dirty]") !== null;
  }

  var pending = false;
  function refreshMain() {
    var main = document.querySelector("main");
    if (!main || LIVE_PAGES.indexOf(location.pathname) < 0) { return; }
    if (busy(main)) { pending = true; return; }
    pending = false;
    fetch(location.pathname + location.search, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("main");
        if (!fresh || busy(main)) { pending = true; return; }
        main.replaceChildren.apply(main, Array.prototype.slice.call(fresh.childNodes).map(function (n) {
          return document.importNode(n, true);
        }));
        guardForms(main);
        main.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () {});
  }

  var timer = null;
  function changed() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () { timer = null; refreshBadge(); refreshMain(); }, DEBOUNCE_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.querySelector("nav.side")) { return; }
    refreshBadge();
    var main = document.querySelector("main");
    if (main) {
      main.addEventListener("input", function (e) { if (e.target && e.target.form) { e.target.setAttribute("data-dirty", ""); } });
      main.addEventListener("change", function (e) { if (e.target && e.target.form) { e.target.setAttribute("data-dirty", ""); } });
      // A refresh put off while a field had focus runs when the focus leaves the page's fields.
      main.addEventListener("focusout", function () { setTimeout(function () { if (pending && !busy(main)) { changed(); } }, 0); });
    }
    if (!window.EventSource) { return; }
    var opened = false;
    var es = new EventSource("/events");
    // A reconnect may have missed changes: refresh then (not on the first hello).
    es.addEventListener("hello", function () { if (opened) { changed(); } opened = true; });
    es.addEventListener("change", changed);
  });
})();
