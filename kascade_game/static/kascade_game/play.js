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

  // A refused guess (a paused room) leaves the card on screen: the buttons work again.
  // So does a guess that got no answer at all: the network dropped, the request
  // timed out (hx-request, 15 s) or a proxy gave up (5xx, nothing swapped in).
  // The player is told to press again. The server records a card's guess once
  // and answers a repeat with that first guess, so nothing counts twice.
  // The next card likewise: the reveal stays and says to press again.
  function tellNoAnswer(feedback, marker, focus) {
    if (feedback) {
      feedback.textContent = feedback.getAttribute("data-no-answer");
      feedback.setAttribute(marker, "");
    }
    if (focus) {
      focus.focus({ preventScroll: true });
    }
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    var target = event.target.closest ? event.target : null;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var unanswered = status === 0 || status >= 500;
    var form = target && target.closest(".guess-form");
    if (form) {
      if (status >= 400 || unanswered) {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      }
      if (unanswered) {
        tellNoAnswer(form.querySelector("[data-no-answer]"), "data-guess-unanswered",
                     form.querySelector(".guess-buttons button"));
      }
      return;
    }
    var next = target && target.closest("[data-next]");
    if (next && unanswered) {
      tellNoAnswer(next.parentNode.querySelector("[data-no-answer]"), "data-next-unanswered", next);
    }
  });

  // A timed room card counts down; when the time is up the answer still counts, for no points.
  function startTimers() {
    document.querySelectorAll("[data-timer]:not([data-timer-started])").forEach(function (timer) {
      timer.setAttribute("data-timer-started", "");
      var left = parseInt(timer.getAttribute("data-remaining"), 10);
      var shown = timer.querySelector("strong");
      var tick = setInterval(function () {
        if (!document.body.contains(timer)) { clearInterval(tick); return; }
        left = Math.max(0, left - 1);
        shown.textContent = String(left);
        if (left === 0) {
          timer.classList.add("expired");
          shown.textContent = timer.getAttribute("data-expired-text") || "0 — time is up";
          clearInterval(tick);
        }
      }, 1000);
    });
  }
  document.addEventListener("DOMContentLoaded", startTimers);
  document.addEventListener("htmx:afterSettle", startTimers);

  // One guess per card: disable the buttons as soon as one is pressed.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest ? event.target.closest(".guess-form") : null;
    if (form) {
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    }
  });
})();
