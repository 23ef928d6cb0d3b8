// Keyboard play: keys 1–5 guess p, He, C, Si, Fe; Enter (or N) goes on after the reveal.
// htmx does the requests; this file only maps keys to the buttons and moves focus.
(function () {
  "use strict";

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) {
      return;
    }
    var button = document.querySelector('.guess-buttons [data-key="' + event.key + '"]');
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
      return;
    }
    if (event.key === "Enter" || event.key === "n" || event.key === "N") {
      var next = document.querySelector("[data-next]");
      if (next && document.activeElement !== next) {
        event.preventDefault();
        next.click();
      }
    }
  });

  // After htmx swaps in a reveal or a new card, put the focus where the next action is.
  document.addEventListener("htmx:afterSettle", function () {
    var target = document.querySelector("[data-next]") || document.querySelector(".guess-buttons button");
    if (target) {
      target.focus({ preventScroll: true });
    }
  });

  // One guess per card: disable the buttons as soon as one is pressed.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest ? event.target.closest(".guess-form") : null;
    if (form) {
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    }
  });
})();
