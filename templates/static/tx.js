/* tX site script: small on purpose. Every page works without it.
 * - the Contents button opens and closes the sidebar on narrow screens;
 * - a repository page goes on to its latest build (unless #builds is asked for);
 * - a build in progress follows build_log.json and reloads when it is final;
 * - a book with words of Jesus (\wj) offers them in red, remembered. */
(function () {
  "use strict";

  // Loaded in <head> without defer, so the class is set before the first
  // paint (no inline script: the site's Content-Security-Policy has none).
  document.documentElement.className = "js";

  var FINAL = ["success", "warnings", "errors", "failed", "cancelled"];
  var LABELS = {
    requested: "Waiting to build",
    started: "Building",
    success: "Published",
    warnings: "Published with warnings",
    errors: "Published with errors",
    failed: "Build failed",
    cancelled: "Replaced by a newer push"
  };

  function sidebar() {
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("sidebar");
    if (!toggle || !nav) return;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      document.body.classList.toggle("nav-open", open);
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && document.body.classList.contains("nav-open")) {
        toggle.click();
        toggle.focus();
      }
    });
    var current = nav.querySelector('[aria-current="page"]');
    if (current && nav.scrollHeight > nav.clientHeight) {
      nav.scrollTop = Math.max(0, current.offsetTop - nav.clientHeight / 3);
    }
  }

  function landing() {
    var el = document.querySelector("[data-latest]");
    if (!el || location.hash === "#builds") return;
    location.replace(el.getAttribute("data-latest"));
  }

  function followBuildLog() {
    var el = document.querySelector("[data-follow-log]");
    if (!el || !window.fetch) return;
    var url = el.getAttribute("data-follow-log");
    var delay = parseInt(el.getAttribute("data-poll-ms"), 10) || 5000;
    var label = el.querySelector("[data-status-label]");
    var guard = "tx-reloads:" + location.pathname + ":" + (el.getAttribute("data-job") || "");

    function schedule() {
      setTimeout(poll, delay);
      delay = Math.min(Math.round(delay * 1.2), 20000);
    }

    function finished(status) {
      // A cache in front of the site may still hand out this placeholder:
      // after three reloads that did not help, offer a link instead of looping.
      var tries = 0;
      try { tries = parseInt(sessionStorage.getItem(guard) || "0", 10); } catch (e) { /* storage off */ }
      if (tries >= 3) {
        if (label) label.textContent = LABELS[status] + " — reload the page to see it";
        return;
      }
      try { sessionStorage.setItem(guard, String(tries + 1)); } catch (e) { /* storage off */ }
      fetch(location.href, { cache: "reload" })
        .catch(function () {})
        .then(function () { location.reload(); });
    }

    function poll() {
      var sep = url.indexOf("?") < 0 ? "?" : "&";
      fetch(url + sep + "t=" + Date.now(), { cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (log) {
          if (log && typeof log.status === "string") {
            el.setAttribute("data-status", log.status);
            if (label && LABELS[log.status]) label.textContent = LABELS[log.status];
            if (FINAL.indexOf(log.status) >= 0) return finished(log.status);
          }
          schedule();
        })
        .catch(schedule);
    }

    schedule();
  }

  function redLetters() {
    var head = document.querySelector(".book .page-head");
    if (!head || !document.querySelector(".scripture .wj")) return;
    var key = "tx-red-letters";
    var on = false;
    try { on = localStorage.getItem(key) === "1"; } catch (e) { /* storage off */ }
    var label = document.createElement("label");
    label.className = "red-letter-toggle";
    var box = document.createElement("input");
    box.type = "checkbox";
    box.checked = on;
    label.appendChild(box);
    label.appendChild(document.createTextNode("Words of Jesus in red"));
    head.appendChild(label);
    document.documentElement.classList.toggle("red-letters", on);
    box.addEventListener("change", function () {
      document.documentElement.classList.toggle("red-letters", box.checked);
      try { localStorage.setItem(key, box.checked ? "1" : "0"); } catch (e) { /* storage off */ }
    });
  }

  function start() {
    sidebar();
    redLetters();
    landing();
    followBuildLog();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
