/* The coding form: keeps a draft by itself a few seconds after the last change, and helps
 * the keyboard. No dependencies. Without this script the form works the same; the
 * "Save draft" button then keeps the draft. */
(function () {
  "use strict";

  var form = document.getElementById("coding-form");
  if (!form) return;

  var DELAY = 3000;
  var status = document.getElementById("draft-status");
  var url = form.getAttribute("data-draft-url");
  var failed = form.getAttribute("data-draft-failed") || "";
  var timer = null;
  var busy = false;
  var again = false;
  var submitting = false;

  function csrfToken() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function show(text) {
    if (status && !submitting) status.textContent = text;
  }

  function save() {
    timer = null;
    if (submitting || !url) return;
    if (busy) {
      // Save again when the request on its way returns: the form changed meanwhile.
      again = true;
      return;
    }
    busy = true;
    window.fetch(url, {
      method: "POST",
      body: new window.FormData(form),
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
    }).then(function (response) {
      if (!response.ok) throw new Error("draft not saved: " + response.status);
      return response.json();
    }).then(function (data) {
      show(data.text);
    }).catch(function () {
      show(failed);
    }).then(function () {
      busy = false;
      if (again) {
        again = false;
        schedule();
      }
    });
  }

  function schedule() {
    if (!url || submitting) return;
    window.clearTimeout(timer);
    timer = window.setTimeout(save, DELAY);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  form.addEventListener("submit", function () {
    // Finishing (or the button's own draft save) must not be followed by an older draft.
    submitting = true;
    window.clearTimeout(timer);
  });

  // Enter in a field would submit the whole form (and finish the coding): only the
  // buttons submit. Space still ticks a box; arrows still move through a group.
  form.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && target && target.tagName === "INPUT") event.preventDefault();
  });

  // The error summary links move to the field itself, with its question in view.
  document.addEventListener("click", function (event) {
    var link = event.target && event.target.closest ? event.target.closest(".error-summary a[href^='#']") : null;
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    var question = target.closest(".question") || target;
    question.scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
  });

  // After a refused save, start at the summary; otherwise at the first question, so an
  // experienced counsellor can code with the keyboard straight away.
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  } else {
    var first = form.querySelector(".question input:checked, .question input");
    if (first) first.focus({ preventScroll: true });
  }
})();
