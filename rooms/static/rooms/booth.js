// Festival booth: idle reset to the attract screen, the on-screen keyboard, and
// "touch anywhere to play" on the attract screen. No inline scripts (CSP).
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }

  onReady(function () {
    var bar = document.querySelector("[data-booth]");
    if (bar) {
      // After this many seconds without a touch, key or click the visitor has left:
      // forget them (POST, so the session is cleared) and show the attract screen.
      var idleMs = Math.max(1, parseFloat(bar.getAttribute("data-idle-seconds") || "60")) * 1000;
      var timer = null;
      var restart = function () {
        if (timer) { clearTimeout(timer); }
        timer = setTimeout(function () {
          var form = document.getElementById("booth-reset-form");
          if (form) { form.submit(); } else { window.location.assign(bar.getAttribute("data-attract-url")); }
        }, idleMs);
      };
      ["pointerdown", "keydown", "touchstart", "wheel"].forEach(function (name) {
        document.addEventListener(name, restart, { passive: true });
      });
      document.addEventListener("htmx:afterSettle", restart);
      restart();
    }

    var input = document.querySelector("[data-booth-input]");
    document.querySelectorAll("[data-osk-char]").forEach(function (key) {
      key.addEventListener("click", function () {
        if (!input) { return; }
        var max = parseInt(input.getAttribute("maxlength") || "40", 10);
        if (input.value.length < max) {
          var ch = key.getAttribute("data-osk-char");
          // Capital first letter, small letters after, as names are written.
          var atWordStart = input.value === "" || input.value.slice(-1) === " ";
          input.value += atWordStart ? ch : ch.toLowerCase();
        }
        input.focus({ preventScroll: true });
      });
    });
    var back = document.querySelector("[data-osk-back]");
    if (back && input) {
      back.addEventListener("click", function () {
        input.value = input.value.slice(0, -1);
        input.focus({ preventScroll: true });
      });
    }

    var attract = document.querySelector("[data-attract]");
    if (attract) {
      var start = function () { window.location.assign(attract.getAttribute("data-start-url")); };
      document.addEventListener("keydown", start);
      document.addEventListener("pointerdown", function (event) {
        if (!event.target.closest("a")) { start(); }
      });
    }
  });
})();
