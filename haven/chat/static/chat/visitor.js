/* The visitor's page: start or resume a chat, send with a resend box, quick exit.
 *
 * What this page keeps in the browser lives in sessionStorage under one key, only while a
 * chat is open: the conversation token and the messages not yet acknowledged. The last
 * sequence number shown is kept in memory only: a reloaded page has shown nothing yet, so it
 * asks for the whole history. It is cleared when the chat ends and by the quick exit. No cookies.
 *
 * A return code is never stored by this script, nor put in the address or the title: it
 * lives only in the page, where it is shown until the visitor removes it (or leaves). */
(function () {
  "use strict";

  var STORE_KEY = "haven.chat";
  var config = JSON.parse(document.getElementById("haven-config").textContent);
  var T = config.text;
  var fmt = window.HavenSocket.format;

  var el = {
    intro: document.getElementById("intro"),
    introNotice: document.getElementById("intro-notice"),
    chat: document.getElementById("chat"),
    ended: document.getElementById("ended"),
    longWait: document.getElementById("long-wait"),
    cover: document.getElementById("cover"),
    coverChat: document.getElementById("cover-chat"),
    coverTitle: document.getElementById("cover-title"),
    safety: document.getElementById("safety"),
    safetyTitle: document.getElementById("safety-title"),
    notSafe: document.getElementById("not-safe"),
    notSafeTitle: document.getElementById("not-safe-title"),
    endedReason: document.getElementById("ended-reason"),
    status: document.getElementById("chat-status"),
    log: document.getElementById("log"),
    typing: document.getElementById("typing"),
    composer: document.getElementById("composer"),
    message: document.getElementById("message"),
    error: document.getElementById("message-error"),
    endChat: document.getElementById("end-chat"),
    endConfirm: document.getElementById("end-confirm"),
    endYes: document.getElementById("end-yes"),
    endNo: document.getElementById("end-no"),
    introCode: document.getElementById("intro-code"),
    introCodeInput: document.getElementById("intro-code-input"),
    codeAskLine: document.getElementById("code-ask-line"),
    codeAsk: document.getElementById("code-ask"),
    codeAskError: document.getElementById("code-ask-error"),
    codeUse: document.getElementById("code-use"),
    codeForm: document.getElementById("code-form"),
    codeInput: document.getElementById("code-input"),
    codeError: document.getElementById("code-error"),
    codeBox: document.getElementById("code-box"),
    codeBoxTitle: document.getElementById("code-box-title"),
    codePhrase: document.getElementById("code-phrase"),
    codeDone: document.getElementById("code-done"),
    closedNotice: document.getElementById("closed-notice"),
    startChat: document.getElementById("start-chat"),
    introCodeStart: document.getElementById("intro-code-start"),
    introCodeError: document.getElementById("intro-code-error"),
    leaveLetter: document.getElementById("leave-letter"),
    letterLineText: document.getElementById("letter-line-text"),
    unwatched: document.getElementById("unwatched"),
    letter: document.getElementById("letter"),
    letterTitle: document.getElementById("letter-title"),
    letterForm: document.getElementById("letter-form"),
    letterText: document.getElementById("letter-text"),
    letterFromChat: document.getElementById("letter-from-chat"),
    letterError: document.getElementById("letter-error"),
    letterSend: document.getElementById("letter-send"),
    letterSent: document.getElementById("letter-sent"),
    letterSentTitle: document.getElementById("letter-sent-title"),
    letterCode: document.getElementById("letter-code"),
    letterThread: document.getElementById("letter-thread"),
    letterThreadTitle: document.getElementById("letter-thread-title"),
    letterLog: document.getElementById("letter-log"),
    letterNoAnswer: document.getElementById("letter-no-answer"),
    letterMoreForm: document.getElementById("letter-more-form"),
    letterMore: document.getElementById("letter-more"),
    letterMoreError: document.getElementById("letter-more-error"),
  };

  var state = load();           // {token, outbox: [{client_id, text}]} or null
  var lastSeen = 0;             // every number up to this one is shown on this page
  var starting = false;         // a "start" frame is owed once the socket is open
  var welcomed = false;         // the server has bound this socket to our conversation
  var status = null;
  var shown = {};               // seq -> true, so nothing is shown twice
  var typingTimer = null;
  var lastTypingSent = 0;
  var retryTimer = null;
  var socket = null;
  var codeWaiting = null;       // "ask" or "use" while a return-code frame awaits its answer
  var introCode = "";           // a code typed on the start screen, sent once the chat exists

  function load() {
    try {
      var raw = window.sessionStorage.getItem(STORE_KEY);
      return raw ? JSON.parse(raw) : null;
    } catch (e) {
      return null;
    }
  }

  function save() {
    try {
      if (state) window.sessionStorage.setItem(STORE_KEY, JSON.stringify(state));
      else window.sessionStorage.removeItem(STORE_KEY);
    } catch (e) { /* storage may be unavailable; the chat still works while the page is open */ }
  }

  function forget() {
    state = null;
    try { window.sessionStorage.clear(); } catch (e) { /* nothing stored */ }
  }

  /* ---------- quick exit ---------- */

  function quickExit() {
    try {
      if (socket && state && welcomed) socket.send({ type: "quick_exit" });
    } catch (e) { /* leaving anyway */ }
    forget();
    if (socket) socket.stop();
    document.title = "";
    document.body.textContent = "";
    // replace(): the page is swapped out of the history, so Back cannot return to it.
    window.location.replace(config.quickExitUrl);
  }

  document.getElementById("quick-exit").addEventListener("click", quickExit);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      quickExit();
    }
  });

  // Links inside Haven replace the current history entry too, so that the history holds
  // at most one Haven page and the quick exit removes it.
  Array.prototype.forEach.call(document.querySelectorAll("a[data-replace]"), function (a) {
    a.addEventListener("click", function (event) {
      event.preventDefault();
      window.location.replace(a.href);
    });
  });

  /* ---------- views ---------- */

  function show(view) {
    el.intro.hidden = view !== "intro";
    el.letter.hidden = view !== "letter";
    el.letterSent.hidden = view !== "letter-sent";
    el.letterThread.hidden = view !== "letter-thread";
    el.safety.hidden = view !== "safety";
    // "Someone is coming" wherever words are on screen: the chat and the message views.
    el.coverChat.hidden = ["chat", "letter", "letter-sent", "letter-thread"].indexOf(view) < 0;
    el.chat.hidden = view !== "chat";
    el.ended.hidden = view !== "ended";
  }

  function setStatus(text) {
    el.status.textContent = text;
  }

  function messageItem(message) {
    var li = document.createElement("li");
    var who;
    if (message.sender === "system") {
      li.className = "msg system";
      if (message.kind === "joined") li.textContent = T.joined;
      else if (message.kind === "transferred") li.textContent = T.transferred;
      else if (message.kind === "requeued") li.textContent = T.requeued;
      else if (message.kind === "ended") li.textContent = T.endedByVisitor;
      else if (message.kind === "returned") li.textContent = T.returned;
      return li;
    }
    li.className = "msg " + (message.sender === "visitor" ? "mine" : "theirs");
    who = document.createElement("span");
    who.className = "who";
    who.textContent = message.sender === "visitor" ? T.you : T.counsellor;
    var body = document.createElement("p");
    body.className = "text";
    body.dir = "auto";
    body.textContent = message.text;   // always text, never HTML
    li.appendChild(who);
    li.appendChild(body);
    if (message.sent_at) {
      var time = document.createElement("time");
      time.dateTime = message.sent_at;
      time.textContent = window.HavenSocket.time(message.sent_at, config.language);
      li.appendChild(time);
    }
    return li;
  }

  function addMessage(message) {
    if (shown[message.seq]) return;
    shown[message.seq] = true;
    if (message.kind === "ended" || message.kind === "quick_exit") return;  // the ended view says it
    if (message.kind === "returned") el.codeUse.hidden = true;  // linked: no second code
    var li = messageItem(message);
    li.dataset.seq = String(message.seq);
    if (message.client_id) {
      var pending = el.log.querySelector('li.pending[data-client-id="' + cssId(message.client_id) + '"]');
      if (pending) pending.remove();
    }
    // Keep confirmed messages in sequence order, ahead of anything still pending.
    var before = null;
    var items = el.log.children;
    for (var i = 0; i < items.length; i++) {
      var item = items[i];
      if (item.classList.contains("pending") || Number(item.dataset.seq) > message.seq) {
        before = item;
        break;
      }
    }
    el.log.insertBefore(li, before);
    if (message.sender === "counsellor") el.typing.textContent = "";
    scrollDown();
    while (shown[lastSeen + 1]) lastSeen += 1;
    if (message.seq > lastSeen + 1 && welcomed && state && state.token) {
      // A gap: a live event went missing. Ask again from the last unbroken number.
      socket.send({ type: "resume", token: state.token, last_seq: lastSeen });
    }
  }

  function cssId(value) {
    return String(value).replace(/[^a-zA-Z0-9_-]/g, "");
  }

  function addPending(entry) {
    var li = messageItem({ sender: "visitor", kind: "text", text: entry.text });
    li.classList.add("pending");
    li.dataset.clientId = entry.client_id;
    var note = document.createElement("span");
    note.className = "small";
    note.textContent = T.sending;
    li.appendChild(note);
    el.log.appendChild(li);
    scrollDown();
  }

  function scrollDown() {
    el.log.scrollTop = el.log.scrollHeight;
    window.scrollTo(0, document.body.scrollHeight);
  }

  /* ---------- after the chat: two optional questions (haven.feedback) ---------- */

  var feedbackForm = document.getElementById("feedback");
  var feedbackThanks = document.getElementById("feedback-thanks");
  var feedbackError = document.getElementById("feedback-error");

  function resetFeedback() {
    feedbackForm.reset();
    feedbackForm.hidden = false;
    feedbackError.textContent = "";
    feedbackThanks.textContent = "";
  }

  feedbackForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var helped = feedbackForm.querySelector("input[name=helped]:checked");
    var comeBack = feedbackForm.querySelector("input[name=come_back]:checked");
    if (!helped && !comeBack) {
      feedbackError.textContent = T.feedbackChoose;
      return;
    }
    feedbackError.textContent = "";
    var sendButton = document.getElementById("feedback-send");
    if (sendButton.disabled) return;
    sendButton.disabled = true;
    post(config.feedbackUrl, {
      helped: helped ? helped.value : "",
      come_back: comeBack ? comeBack.value : "",
    }).then(function (answer) {
      sendButton.disabled = false;
      if (!answer.ok && answer.data.error !== "unavailable") {
        feedbackError.textContent = answer.data.message || T.letterFailed;
        return;
      }
      feedbackForm.hidden = true;
      feedbackThanks.textContent = T.feedbackThanks;
      feedbackThanks.focus();
    });
  });

  function showEnded(endedBy) {
    el.endedReason.textContent =
      endedBy === "counsellor" ? T.endedByCounsellor : endedBy === "visitor" ? T.endedByVisitor
        : endedBy === "system" ? T.endedAway : "";
    forget();
    welcomed = false;
    applyStatus("ended");  // no waiting left: its timer and the long-wait note go too
    if (socket) socket.stop();
    socket = null;
    el.log.textContent = "";
    shown = {};
    lastSeen = 0;
    resetCodeForms();
    resetFeedback();
    show("ended");
    document.getElementById("new-chat").focus();
  }

  // The estimated wait comes with the place (haven.chat.waits: the last hour's pace); null
  // when there is too little to go on, and then nothing is said about time. From
  // config.longWaitMinutes on, or after waiting that long, a calm word on the long wait.
  var waitingSince = null;
  var longWaitTimer = null;

  function applyStatus(newStatus, position, estimate, watched) {
    status = newStatus;
    // Nobody has a console open: say so, and offer a message instead (never an unknowing wait).
    el.unwatched.hidden = !(newStatus === "waiting" && watched === false);
    if (newStatus === "waiting") {
      // Nobody online: the place only, no promise that someone comes soon.
      var line = watched === false
        ? (position && position > 1 ? fmt(T.positionPlain, { position: position }) : T.positionFirstPlain)
        : (position && position > 1 ? fmt(T.position, { position: position }) : T.positionFirst);
      var wait = "";
      if (typeof estimate === "number" && watched !== false) {
        wait = " " + (estimate > 60 ? T.waitHour : fmt(T.waitAbout, { minutes: estimate }));
      }
      // Nobody online: said in the status line too, which a screen reader announces.
      setStatus(line + wait + " " + T.writeAlready + (watched === false ? " " + T.nobodyOnline : ""));
      if (waitingSince === null) {
        waitingSince = Date.now();
        longWaitTimer = window.setTimeout(function () { showLongWait(true); },
          config.longWaitMinutes * 60000);
      }
      if (typeof estimate === "number" && estimate >= config.longWaitMinutes) showLongWait(true);
    } else {
      waitingSince = null;
      window.clearTimeout(longWaitTimer);
      showLongWait(false);
      if (newStatus === "active") setStatus(T.active);
    }
  }

  function showLongWait(shown) {
    if (shown && status !== "waiting") return;
    el.longWait.hidden = !shown;
  }

  /* ---------- sending ---------- */

  function flushOutbox() {
    if (!state || !welcomed || !socket) return;
    state.outbox.forEach(function (entry) {
      socket.send({ type: "send", client_id: entry.client_id, text: entry.text });
    });
  }

  function dropFromOutbox(clientId) {
    if (!state) return null;
    var found = null;
    state.outbox = state.outbox.filter(function (entry) {
      if (entry.client_id === clientId) { found = entry; return false; }
      return true;
    });
    save();
    return found;
  }

  el.composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = el.message.value;
    if (!text.trim() || !state) return;
    if (Array.from(text).length > config.maxLength) {   // count characters as the server does
      el.error.textContent = T.tooLong;
      return;
    }
    el.error.textContent = "";
    var entry = { client_id: window.HavenSocket.newId(), text: text };
    state.outbox.push(entry);   // kept until the server says it is stored
    save();
    addPending(entry);
    el.message.value = "";
    if (welcomed) socket.send({ type: "send", client_id: entry.client_id, text: entry.text });
  });

  el.message.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      el.composer.requestSubmit();
    }
  });

  el.message.addEventListener("input", function () {
    var now = Date.now();
    if (welcomed && status === "active" && now - lastTypingSent > 3000) {
      lastTypingSent = now;
      socket.send({ type: "typing" });
    }
  });

  el.endChat.addEventListener("click", function () {
    el.endConfirm.hidden = false;
    el.endNo.focus();
  });
  el.endNo.addEventListener("click", function () {
    el.endConfirm.hidden = true;
    el.message.focus();
  });
  el.endYes.addEventListener("click", function () {
    el.endConfirm.hidden = true;
    if (socket && welcomed) socket.send({ type: "end" });
    else showEnded("visitor");
  });

  /* ---------- return codes ---------- */

  function resetCodeForms() {
    codeWaiting = null;
    el.codeAsk.disabled = false;
    el.codeAskError.textContent = "";
    el.codeInput.value = "";
    el.codeError.textContent = "";
    el.codeUse.open = false;
    el.codeUse.hidden = false;
  }

  function askForCode() {
    el.codeAskError.textContent = "";
    if (codeWaiting) return;
    if (!(welcomed && socket && socket.send({ type: "return_code_request" }))) {
      el.codeAskError.textContent = T.codeNotNow;
      return;
    }
    codeWaiting = "ask";
    el.codeAsk.disabled = true;
  }

  function useCode(code) {
    el.codeError.textContent = "";
    if (codeWaiting) return;
    if (!(welcomed && socket && socket.send({ type: "return_code_use", code: code }))) {
      el.codeError.textContent = T.codeNotNow;
      return;
    }
    codeWaiting = "use";
  }

  function showCode(phrase) {
    codeWaiting = null;
    el.codeAsk.disabled = false;
    // Words with spaces: easy to read aloud and to write down; any separator works when
    // the code is typed in again.
    el.codePhrase.textContent = String(phrase).split("-").join(" ");
    el.codeAskLine.hidden = true;
    el.codeBox.hidden = false;
    // The whole box in sight, not only its title at the bottom of a phone's screen.
    el.codeBoxTitle.focus({ preventScroll: true });
    el.codeBox.scrollIntoView({ block: "start" });
  }

  function hideCode() {
    // Out of the page itself, not only out of sight.
    el.codePhrase.textContent = "";
    el.codeBox.hidden = true;
    el.codeAskLine.hidden = false;
    if (!el.chat.hidden) el.message.focus();
    else if (!el.ended.hidden) document.getElementById("new-chat").focus();
  }

  function codeAccepted() {
    codeWaiting = null;
    el.codeInput.value = "";
    el.codeError.textContent = "";
    el.codeUse.open = false;
    el.codeUse.hidden = true;  // the "returned" line in the chat says the rest
    el.message.focus();
  }

  function codeRefused(message) {
    var asked = codeWaiting === "ask";
    codeWaiting = null;
    el.codeAsk.disabled = false;
    if (asked) {
      el.codeAskError.textContent = message;
      return;
    }
    el.codeUse.open = true;
    el.codeError.textContent = message;
    el.codeInput.focus();
  }

  el.codeAsk.addEventListener("click", askForCode);
  el.codeDone.addEventListener("click", hideCode);
  el.codeForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = el.codeInput.value.trim();
    if (code) useCode(code);
  });
  document.getElementById("intro-code-form").addEventListener("submit", function (event) {
    event.preventDefault();
    // Closed: no chat can start, so Enter reads the answer to a message instead.
    if (el.introCodeStart.hidden) readLetter();
    else askIfSafe();
  });

  /* ---------- the connection ---------- */

  function onFrame(frame) {
    switch (frame.type) {
      case "welcome":
        if (frame.token) {
          // (Hidden before the server answered: that stays so after a reload.)
          state = { token: frame.token, outbox: state ? state.outbox : [], covered: !el.cover.hidden };
          save();
        }
        starting = false;
        welcomed = true;
        if (frame.status === "ended") {
          showEnded(frame.ended_by);
          return;
        }
        // (A reconnection while the visitor writes a message instead leaves them there.)
        if (el.letter.hidden && el.letterSent.hidden) show("chat");
        applyStatus(frame.status, frame.position, frame.estimate_minutes, frame.watched);
        flushOutbox();
        // After a reconnection: still hidden is said again (a console that reconnected
        // forgot it), and a change made while the connection was gone is said now.
        tellCover(true);
        if (introCode) {
          // The code from the start screen goes now; a refusal shows at the chat's own
          // code field, with what was typed, to correct.
          el.codeInput.value = introCode;
          introCode = "";
          useCode(el.codeInput.value);
        }
        break;
      case "history":
        if (welcomed) frame.messages.forEach(addMessage);
        break;
      case "message":
        addMessage(frame.message);
        break;
      case "ack":
        var acked = dropFromOutbox(frame.client_id);
        // Stored: show it as sent now, even if the live copy of it is late or lost.
        if (acked) {
          addMessage({
            seq: frame.seq, sender: "visitor", kind: "text", text: acked.text,
            client_id: frame.client_id, sent_at: new Date().toISOString(),
          });
        }
        break;
      case "queue_position":
        if (status === "waiting") applyStatus("waiting", frame.position, frame.estimate_minutes, frame.watched);
        break;
      case "state":
        if (frame.status === "ended") showEnded(frame.ended_by);
        else applyStatus(frame.status, frame.position);  // "waiting": put back in the queue
        if (frame.status === "active" && !el.letter.hidden && letterFromChat && !letterBusy) {
          // A counsellor came while the visitor was writing a message instead: back to the
          // chat (the words stay in the message form, not lost).
          show("chat");
          el.message.focus();
        }
        break;
      case "typing":
        el.typing.textContent = T.typing;
        window.clearTimeout(typingTimer);
        typingTimer = window.setTimeout(function () { el.typing.textContent = ""; }, 5000);
        break;
      case "return_code":
        showCode(frame.code);
        break;
      case "return_code_accepted":
        codeAccepted();
        break;
      case "error":
        onError(frame);
        break;
    }
  }

  function onError(frame) {
    if (frame.code === "return_code_invalid" || (codeWaiting && !frame.client_id && frame.code !== "flood")) {
      // The answer to the return-code frame that is waiting (only a send's error names a
      // client_id).
      codeRefused(frame.message);
      return;
    }
    if (frame.code === "rate_limited" || frame.code === "try_again") {
      // Nothing is lost: the message stays in the outbox and goes again after the pause
      // (or, before the chat was bound, the start or resume goes again). "try_again": the
      // server could not store it just now (its database is away).
      window.clearTimeout(retryTimer);
      retryTimer = window.setTimeout(welcomed ? flushOutbox : hello, Math.max(1, frame.retry_after || 1) * 1000);
      el.error.textContent = frame.message;
      return;
    }
    if ((frame.code === "not_found" || frame.code === "unavailable" || frame.code === "closed") && !frame.client_id && !welcomed) {
      // The chat could not be found or started: back to the start, with a calm word why.
      if (frame.code === "closed" && state && state.outbox.length && !el.letterText.value) {
        // Words typed while the chat was starting are not lost: they wait in the message form.
        el.letterText.value = state.outbox.map(function (entry) { return entry.text; }).join("\n\n");
      }
      forget();
      if (socket) socket.stop();
      socket = null;
      show("intro");
      if (frame.code === "closed") {
        showClosed(frame.message);
        return;
      }
      el.introNotice.textContent = frame.code === "not_found" ? T.notFound : frame.message;
      el.introNotice.focus({ preventScroll: true });
      el.introNotice.scrollIntoView({ block: "center" });
      return;
    }
    if (frame.client_id) {
      // Refused for what it is (too long, empty): give the words back to edit.
      var entry = dropFromOutbox(frame.client_id);
      var pending = el.log.querySelector('li.pending[data-client-id="' + cssId(frame.client_id) + '"]');
      if (pending) pending.remove();
      if (entry && frame.code !== "conversation_ended" && !el.message.value) el.message.value = entry.text;
    }
    el.error.textContent = frame.message;
  }

  function hello() {
    if (!socket) return;
    if (state && state.token) socket.send({ type: "resume", token: state.token, last_seq: lastSeen });
    else if (starting) socket.send({ type: "start" });
  }

  function connect() {
    welcomed = false;
    socket = new window.HavenSocket("/ws/visitor/?lang=" + encodeURIComponent(config.language), {
      open: hello,
      frame: onFrame,
      close: function (code) {
        welcomed = false;
        // An answer to a return-code frame cannot come any more: ask again after reconnecting.
        if (codeWaiting) codeRefused(T.codeNotNow);
        if (!el.chat.hidden) setStatus(code === 4429 ? T.flood : T.reconnecting);
      },
    });
    socket.open();
  }

  function startChat() {
    el.introNotice.textContent = "";
    introCode = el.introCodeInput.value.trim();
    el.introCodeInput.value = "";
    el.introCode.open = false;
    resetCodeForms();
    starting = true;
    state = null;
    shown = {};
    lastSeen = 0;
    el.log.textContent = "";
    show("chat");
    setStatus(T.connecting);
    // Until the server answers, what is typed waits in a temporary outbox.
    state = { token: null, outbox: [] };
    connect();
    el.message.focus();
  }

  /* ---------- messages left for later (haven.letters) ---------- */

  // The code of the letter on screen, in memory only while its thread is shown.
  var letterCode = "";
  var letterFromChat = false;   // opened from a waiting chat nobody watches
  var letterBusy = false;
  // This message's own id, kept until it is stored: sent again after a lost answer, the
  // server finds the message stored the first time instead of storing it twice.
  var letterClientId = null;

  function showClosed(message) {
    el.closedNotice.textContent = message;
    el.closedNotice.hidden = false;
    el.startChat.hidden = true;
    el.introCodeStart.hidden = true;
    el.letterLineText.hidden = true;
    el.leaveLetter.className = "primary";
    el.closedNotice.focus({ preventScroll: true });
    el.closedNotice.scrollIntoView({ block: "center" });
  }

  function post(url, body) {
    return window.fetch(url, {
      method: "POST",
      credentials: "omit",
      cache: "no-store",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) {
        return { ok: response.ok, data: data };
      });
    }).catch(function () {
      return { ok: false, data: { message: T.letterFailed } };
    });
  }

  function openLetter(fromChat) {
    letterFromChat = fromChat;
    el.letterError.textContent = "";
    el.letterFromChat.hidden = true;
    if (fromChat) {
      // What the visitor already wrote while waiting goes with the message.
      var written = Array.prototype.map.call(
        el.log.querySelectorAll("li.mine .text"), function (p) { return p.textContent; });
      if (el.message.value.trim()) written.push(el.message.value);
      if (written.length && !el.letterText.value) {
        el.letterText.value = written.join("\n\n");
        el.letterFromChat.hidden = false;
      }
    }
    show("letter");
    el.letterTitle.focus();
  }

  function leaveChatQuietly() {
    // The waiting chat turned into a message: end it, keep nothing of it.
    try {
      if (socket && state && welcomed) socket.send({ type: "end" });
    } catch (e) { /* the server ends it by itself when the visitor stays away */ }
    forget();
    welcomed = false;
    applyStatus("ended");
    if (socket) socket.stop();
    socket = null;
    el.log.textContent = "";
    el.message.value = "";
    shown = {};
    lastSeen = 0;
    resetCodeForms();
  }

  el.letterForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = el.letterText.value;
    if (!text.trim() || letterBusy) return;
    if (Array.from(text).length > config.maxLetterLength) {
      el.letterError.textContent = T.letterTooLong;
      return;
    }
    letterBusy = true;
    el.letterSend.disabled = true;
    el.letterError.textContent = "";
    letterClientId = letterClientId || window.HavenSocket.newId();
    post(config.letterUrls.leave, { text: text, client_id: letterClientId }).then(function (answer) {
      letterBusy = false;
      el.letterSend.disabled = false;
      if (!answer.ok) {
        el.letterError.textContent = answer.data.message || T.letterFailed;
        return;
      }
      // A counsellor who accepted meanwhile keeps the chat: the message is left as well,
      // and "I wrote it down" leads back to the chat.
      if (letterFromChat && status !== "active") leaveChatQuietly();
      letterFromChat = false;
      letterClientId = null;
      el.letterText.value = "";
      el.letterCode.textContent = String(answer.data.code).split("-").join(" ");
      show("letter-sent");
      el.letterSentTitle.focus();
    });
  });

  el.leaveLetter.addEventListener("click", function () { openLetter(false); });
  document.getElementById("unwatched-letter").addEventListener("click", function () { openLetter(true); });
  document.getElementById("letter-back").addEventListener("click", function () {
    show(letterFromChat && state ? "chat" : "intro");
    if (letterFromChat && state) el.message.focus();
    else el.leaveLetter.focus();
  });
  document.getElementById("letter-sent-done").addEventListener("click", function () {
    el.letterCode.textContent = "";  // out of the page, not only out of sight
    if (state && state.token) {
      show("chat");
      el.message.focus();
      return;
    }
    show("intro");
    el.leaveLetter.focus();
  });

  function showThread(data) {
    el.letterLog.textContent = "";
    data.entries.forEach(function (entry) {
      var li = messageItem({ sender: entry.sender, kind: "text", text: entry.text });
      var time = document.createElement("time");
      time.dateTime = entry.sent_at;
      time.textContent = new Date(entry.sent_at).toLocaleString(config.language, {
        day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
      });
      li.appendChild(time);
      el.letterLog.appendChild(li);
    });
    el.letterNoAnswer.hidden = !data.awaiting_reply;
  }

  document.getElementById("intro-code-read").addEventListener("click", readLetter);

  function readLetter() {
    var code = el.introCodeInput.value.trim();
    el.introCodeError.textContent = "";
    if (!code) {
      el.introCodeError.textContent = T.codeNeeded;
      el.introCodeInput.focus();
      return;
    }
    if (letterBusy) return;
    letterBusy = true;
    post(config.letterUrls.read, { code: code }).then(function (answer) {
      letterBusy = false;
      if (!answer.ok) {
        el.introCodeError.textContent = answer.data.message || T.letterFailed;
        el.introCodeInput.focus();
        return;
      }
      letterCode = code;
      el.introCodeInput.value = "";
      el.introCode.open = false;
      showThread(answer.data);
      show("letter-thread");
      el.letterThreadTitle.focus();
    });
  }

  el.letterMoreForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = el.letterMore.value;
    if (!text.trim() || letterBusy || !letterCode) return;
    if (Array.from(text).length > config.maxLetterLength) {
      el.letterMoreError.textContent = T.letterTooLong;
      return;
    }
    letterBusy = true;
    el.letterMoreError.textContent = "";
    post(config.letterUrls.add, { code: letterCode, text: text }).then(function (answer) {
      letterBusy = false;
      if (!answer.ok) {
        el.letterMoreError.textContent = answer.data.message || T.letterFailed;
        return;
      }
      el.letterMore.value = "";
      showThread(answer.data);
      el.letterThreadTitle.focus();
    });
  });

  document.getElementById("letter-thread-done").addEventListener("click", function () {
    letterCode = "";
    el.letterLog.textContent = "";
    el.letterMore.value = "";
    show("intro");
    el.leaveLetter.focus();
  });

  /* ---------- someone is coming: hide the chat at once, without ending it ---------- */

  var neutralTitle = document.title;

  function setCovered(covered) {
    document.body.classList.toggle("covered", covered);
    el.cover.hidden = !covered;
    document.title = covered ? T.coverTitle : neutralTitle;
    if (state) {
      state.covered = covered;
      save();
    }
    tellCover();
    if (covered) el.coverTitle.focus();
    else if (!el.chat.hidden) el.message.focus();
    else if (!el.letter.hidden) el.letterText.focus();
    else if (!el.letterSent.hidden) el.letterSentTitle.focus();
    else if (!el.letterThread.hidden) el.letterThreadTitle.focus();
    else if (!el.ended.hidden) document.getElementById("new-chat").focus();  // ended meanwhile
  }

  // What the counsellor was last told of it in this chat (kept with the chat, so also
  // across a reload; nothing yet: coming back need not be said). A change made while the
  // connection is gone goes at the next welcome.
  function tellCover(again) {
    if (!state || !socket || !welcomed) return;
    var covered = !el.cover.hidden;
    var told = typeof state.coverTold === "boolean" ? state.coverTold : null;
    if (!(again && covered) && (told === covered || (told === null && !covered))) return;
    if (socket.send({ type: "cover", covered: covered })) {
      state.coverTold = covered;
      save();
    }
  }

  document.getElementById("cover-chat").addEventListener("click", function () { setCovered(true); });
  document.getElementById("uncover").addEventListener("click", function () { setCovered(false); });

  /* ---------- is it safe to chat now? (asked before every chat) ---------- */

  function askIfSafe() {
    el.introNotice.textContent = "";
    el.notSafe.hidden = true;
    show("safety");
    el.safetyTitle.focus();
  }

  document.getElementById("start-chat").addEventListener("click", askIfSafe);
  document.getElementById("new-chat").addEventListener("click", askIfSafe);
  document.getElementById("safe-yes").addEventListener("click", startChat);
  document.getElementById("safe-now").addEventListener("click", startChat);
  document.getElementById("leave-now").addEventListener("click", quickExit);
  document.getElementById("safe-no").addEventListener("click", function () {
    el.notSafe.hidden = false;
    el.notSafeTitle.focus();
  });

  if (state && state.token) {
    // A reload or a new page load in the same tab: pick up the same conversation, still
    // hidden if it was.
    if (state.covered) setCovered(true);
    show("chat");
    setStatus(T.connecting);
    (state.outbox || []).forEach(addPending);
    connect();
  } else {
    forget();
    show("intro");
  }
})();
