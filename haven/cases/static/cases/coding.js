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

  /* ---------- the keyboard: one Tab stop per question, a key per answer ----------
   * Radio groups are one Tab stop with arrows inside, natively; checkbox groups are made
   * the same (one roving Tab stop, arrows move, Space ticks). A digit 1-9 chooses (or, in
   * a checkbox group, ticks) that option and goes on to the next question that applies;
   * Enter goes on without answering; Ctrl+Enter (Cmd+Enter) finishes. Every control stays
   * reachable by keyboard: Tab to its question, the arrow keys within it. */
  var questions = Array.prototype.slice.call(form.querySelectorAll(".question"));

  function inputsOf(question) {
    return Array.prototype.slice.call(question.querySelectorAll("input"));
  }

  function rove(question, target) {
    inputsOf(question).forEach(function (input) { input.tabIndex = input === target ? 0 : -1; });
  }

  questions.forEach(function (question) {
    if (!question.classList.contains("many")) return;
    var boxes = inputsOf(question);
    rove(question, boxes.filter(function (box) { return box.checked; })[0] || boxes[0]);
    question.addEventListener("focusin", function (event) {
      if (event.target.type === "checkbox") rove(question, event.target);
    });
  });

  function value(name) {
    var chosen = form.querySelector("input[name='" + name + "']:checked");
    if (chosen) return chosen.value;
    var field = form.querySelector("input[type=text][name='" + name + "']");
    return field ? field.value.trim() : "";
  }

  // Follow-up questions that do not apply are passed over (Tab still reaches them): the
  // band when the age is told (it is filled in), the platform unless recruited through
  // social media, and the optional number of perpetrators.
  function applies(question) {
    var name = question.id.replace(/^q-/, "");
    if (name === "age_band") return !value("age");
    if (name === "platform") return value("recruitment") === "social_media";
    if (name === "perpetrator_count") return false;
    return true;
  }

  function focusQuestion(question) {
    var target = question.querySelector("input[tabindex='0']") ||
      question.querySelector("input:checked") || question.querySelector("input");
    if (!target) return;
    target.focus({ preventScroll: true });
    question.scrollIntoView({ block: "nearest" });
  }

  function goOn(from) {
    var index = questions.indexOf(from);
    for (var i = index + 1; i < questions.length; i++) {
      if (applies(questions[i])) { focusQuestion(questions[i]); return; }
    }
    var finish = document.getElementById("finish-coding");
    if (finish) finish.focus();
  }

  form.addEventListener("keydown", function (event) {
    var target = event.target;
    var question = target && target.closest ? target.closest(".question") : null;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      // The coding page finishes; the case page (a correction) has its own save button.
      var submit = document.getElementById("finish-coding") ||
        form.querySelector("button[type=submit]:not([value=draft])");
      if (submit) submit.click();
      return;
    }
    if (!question || target.tagName !== "INPUT") return;
    if (event.key === "Enter") {
      goOn(question);
      return;  // (the default, submitting, is prevented below)
    }
    var choice = target.type === "radio" || target.type === "checkbox";
    if (choice && /^[1-9]$/.test(event.key) && !event.ctrlKey && !event.metaKey && !event.altKey) {
      var option = inputsOf(question)[Number(event.key) - 1];
      if (!option) return;
      event.preventDefault();
      option.checked = option.type === "radio" ? true : !option.checked;
      option.dispatchEvent(new Event("change", { bubbles: true }));
      if (option.type === "checkbox") rove(question, option);
      goOn(question);
      return;
    }
    if (target.type === "checkbox" && /^Arrow(Up|Down|Left|Right)$/.test(event.key)) {
      event.preventDefault();
      var boxes = inputsOf(question);
      var step = event.key === "ArrowUp" || event.key === "ArrowLeft" ? -1 : 1;
      var next = boxes[(boxes.indexOf(target) + step + boxes.length) % boxes.length];
      rove(question, next);
      next.focus();
    }
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
