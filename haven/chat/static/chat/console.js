/* The counsellor's console: live queue, several conversations, unread counts.
 * Nothing is stored in the browser; after a reconnect each conversation is caught up from
 * the last sequence number this page saw, and unacknowledged replies are sent again. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("haven-config").textContent);
  var T = config.text;
  var fmt = window.HavenSocket.format;

  var el = {
    connection: document.getElementById("connection"),
    queue: document.getElementById("queue"),
    queueCount: document.getElementById("queue-count"),
    mine: document.getElementById("mine"),
    paneEmpty: document.getElementById("pane-empty"),
    conversation: document.getElementById("conversation"),
    title: document.getElementById("conversation-title"),
    accept: document.getElementById("accept-current"),
    end: document.getElementById("end-current"),
    block: document.getElementById("block-current"),
    liveSection: document.getElementById("live-section"),
    live: document.getElementById("live"),
    status: document.getElementById("pane-status"),
    log: document.getElementById("console-log"),
    typing: document.getElementById("console-typing"),
    composer: document.getElementById("console-composer"),
    message: document.getElementById("console-message"),
    error: document.getElementById("console-error"),
    alert: document.getElementById("console-alert"),
    code: document.getElementById("code-current"),
    codingLink: document.getElementById("coding-link"),
    lettersCount: document.getElementById("letters-count"),
    lettersHint: document.getElementById("letters-count-hint"),
    codingCount: document.getElementById("coding-count"),
    codingHint: document.getElementById("coding-count-hint"),
  };
  // The coding page's address, with a placeholder where a conversation's id goes.
  var CODING_URL = el.code.getAttribute("data-url");
  var NO_ID = "00000000-0000-0000-0000-000000000000";

  // id -> {id, status, mine, startedAt, lastSeq, messages: {seq: message}, unread, outbox: [], endedBy, draft}
  var conversations = {};
  // The queue, by conversation id, and the highest "seq" heard of each conversation (also
  // of those that left): the server sends only what changed, and an older change that
  // arrives late (from another worker) must not undo a newer one.
  var queue = {};
  var queueSeq = {};
  var live = null;   // supervisors only: id -> every active conversation
  var liveSeq = {};
  var current = null;
  var typingTimer = null;
  var lastTypingSent = 0;
  var alertTimer = null;

  function conv(id) {
    if (!conversations[id]) {
      conversations[id] = {
        id: id, status: "waiting", mine: false, startedAt: null, lastSeq: 0,
        messages: {}, unread: 0, outbox: [], endedBy: "", draft: "", loaded: false,
      };
    }
    return conversations[id];
  }

  function shortId(id) { return id.slice(0, 6); }

  // The console's name for a conversation: its number of the day ("Gesprek 12"), or the
  // start of its id for one from before numbers were given.
  function nameOf(id) {
    var known = [conversations[id], queue[id], live && live[id]];
    for (var i = 0; i < known.length; i++) {
      if (known[i] && known[i].number) return String(known[i].number);
    }
    return shortId(id);
  }

  // What the server tells of a conversation besides its state: kept for the labels.
  function absorb(c, entry) {
    if (entry.number) c.number = entry.number;
    if (entry.language) c.language = entry.language;
    if (entry.returning) c.returning = true;
    if (entry.counsellor) c.counsellor = entry.counsellor;
    if (typeof entry.urgent === "boolean") c.urgent = entry.urgent;
    if (entry.danger) c.danger = true;
  }

  // " · EN · came back with a code": the visitor's language and whether they returned.
  function tagsOf(info) {
    var tags = "";
    if (info && info.language) tags += " · " + info.language.toUpperCase();
    if (info && info.returning) tags += " · " + T.returningShort;
    return tags;
  }

  function codingUrl(id) { return CODING_URL.replace(NO_ID, id); }

  // Whether this page may open the conversation's coding page: its own counsellor, or a
  // supervisor (who sees every live conversation), once somebody has accepted it.
  function codable(c) {
    var accepted = c.status === "active" || c.status === "ended" || c.status === "taken";
    return accepted && (c.mine || live !== null);
  }

  function say(text) {
    el.alert.textContent = text;
    el.alert.classList.add("visible");
    window.clearTimeout(alertTimer);
    alertTimer = window.setTimeout(function () {
      el.alert.classList.remove("visible");
      el.alert.textContent = "";
    }, 6000);
  }

  /* ---------- sidebar ---------- */

  // Oldest first, as the server orders the queue.
  function ordered(entries, since) {
    return Object.keys(entries).map(function (id) { return entries[id]; }).sort(function (a, b) {
      var x = a[since], y = b[since];
      if (x !== y) return x < y ? -1 : 1;
      return a.conversation < b.conversation ? -1 : a.conversation > b.conversation ? 1 : 0;
    });
  }

  // Apply one change of the queue or of the live list; false if it is older than one seen.
  // Changes are ranked by seq; at the same seq a leave comes after an entry (the retention
  // job ends a conversation without adding to it), so a late entry cannot bring back a
  // conversation that has left. An equal rank is the same change again: harmless.
  function rank(seq, leaving) { return 2 * seq + (leaving ? 1 : 0); }
  function newer(seen, id, seq, leaving) {
    var r = rank(seq, leaving);
    if (seen[id] !== undefined && seen[id] > r) return false;
    seen[id] = r;
    return true;
  }

  // In a surge the queue changes many times a second: draw it at most five times a second.
  var queueTimer = null;
  function renderQueueSoon() {
    if (queueTimer !== null) return;
    queueTimer = window.setTimeout(function () { queueTimer = null; renderQueue(); }, 200);
  }

  function renderQueue() {
    // Raised by the team's danger words first (a hint), then the longest wait.
    var waiting = ordered(queue, "waiting_since").sort(function (a, b) {
      return (b.danger ? 1 : 0) - (a.danger ? 1 : 0);
    });
    el.queue.textContent = "";
    el.queueCount.textContent = waiting.length ? String(waiting.length) : "";
    if (!waiting.length) {
      var empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = T.queueEmpty;
      el.queue.appendChild(empty);
      return;
    }
    waiting.forEach(function (entry, index) {
      var li = document.createElement("li");
      li.className = "queue-item" + (entry.conversation === current ? " current" : "");
      var head = document.createElement("div");
      head.className = "queue-head";
      var label = document.createElement("strong");
      label.className = "waiting-label";
      label.dataset.place = String(index + 1);
      label.dataset.since = entry.waiting_since;
      waitingLabel(label);
      var count = document.createElement("span");
      count.className = "small";
      count.textContent = fmt(entry.message_count === 1 ? T.messagesOne : T.messagesMany, { count: entry.message_count });
      head.appendChild(label);
      head.appendChild(count);
      li.appendChild(head);
      var about = document.createElement("p");
      about.className = "small queue-about";
      about.textContent = fmt(T.conversation, { short: nameOf(entry.conversation) }) + tagsOf(entry);
      li.appendChild(about);
      if (entry.danger) {
        li.classList.add("danger");
        var hint = document.createElement("p");
        hint.className = "danger-hint";
        hint.textContent = T.dangerHint;
        li.appendChild(hint);
      }
      if (entry.preview) {
        var preview = document.createElement("p");
        preview.className = "preview";
        preview.textContent = entry.preview;
        li.appendChild(preview);
      }
      var actions = document.createElement("div");
      actions.className = "actions";
      var read = document.createElement("button");
      read.type = "button";
      read.className = "secondary";
      read.textContent = T.read;
      read.setAttribute("aria-label", T.read + " " + fmt(T.conversation, { short: nameOf(entry.conversation) }));
      read.addEventListener("click", function () { openConversation(entry.conversation); });
      var accept = document.createElement("button");
      accept.type = "button";
      accept.className = "primary";
      accept.textContent = T.accept;
      accept.setAttribute("aria-label", T.accept + " " + fmt(T.conversation, { short: nameOf(entry.conversation) }));
      accept.addEventListener("click", function () { acceptConversation(entry.conversation); });
      // Away: the queue is shown (to read along), but nothing is accepted from it.
      accept.disabled = !availability.available;
      actions.appendChild(read);
      actions.appendChild(accept);
      li.appendChild(actions);
      el.queue.appendChild(li);
    });
  }

  function renderMine() {
    el.mine.textContent = "";
    var mine = Object.keys(conversations).map(function (id) { return conversations[id]; })
      .filter(function (c) { return c.mine; });
    if (!mine.length) {
      var empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = T.mineEmpty;
      el.mine.appendChild(empty);
      return;
    }
    mine.forEach(function (c) {
      var li = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "conversation-link" + (c.id === current ? " current" : "") + (c.status === "ended" ? " ended" : "");
      if (c.id === current) button.setAttribute("aria-current", "true");
      button.textContent = fmt(T.conversation, { short: nameOf(c.id) }) + tagsOf(c) +
        (c.urgent ? " · " + T.urgentShort : "") + (c.danger ? " · " + T.dangerShort : "");
      if (c.covered && c.status === "active") {
        var hidden = document.createElement("span");
        hidden.className = "covered-mark";
        hidden.textContent = " · " + T.coveredShort;
        button.appendChild(hidden);
      }
      if (c.unread > 0) {
        var badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = String(c.unread);
        badge.setAttribute("aria-label", fmt(T.unread, { count: c.unread }));
        button.appendChild(badge);
      }
      button.addEventListener("click", function () { openConversation(c.id); });
      li.appendChild(button);
      el.mine.appendChild(li);
    });
  }

  function renderLive() {
    if (live === null) return;
    el.liveSection.hidden = false;
    var active = ordered(live, "started_at");
    el.live.textContent = "";
    if (!active.length) {
      var empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = el.live.getAttribute("data-empty") || "";
      el.live.appendChild(empty);
      return;
    }
    active.forEach(function (entry) {
      var li = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "conversation-link" + (entry.conversation === current ? " current" : "");
      // Supervisors see who has each one.
      button.textContent = fmt(T.conversation, { short: nameOf(entry.conversation) }) + tagsOf(entry) +
        (entry.counsellor ? " · " + entry.counsellor : "") + (entry.urgent ? " · " + T.urgentShort : "");
      if (entry.urgent) li.classList.add("urgent");
      button.addEventListener("click", function () { openConversation(entry.conversation); });
      li.appendChild(button);
      el.live.appendChild(li);
    });
  }

  // "#1 · waiting 7 min (since 21:05)": the minutes count on by themselves (tickWaits), in
  // place, so that a counsellor tabbing through the queue keeps their focus.
  function waitingLabel(label) {
    var since = label.dataset.since;
    var minutes = Math.max(0, Math.floor((Date.now() - new Date(since).getTime()) / 60000));
    label.textContent = "#" + label.dataset.place + " · " + fmt(T.waitingFor, {
      minutes: minutes,
      time: window.HavenSocket.time(since, config.language, config.timeZone),
    });
  }

  function tickWaits() {
    Array.prototype.forEach.call(el.queue.querySelectorAll(".waiting-label"), waitingLabel);
  }
  window.setInterval(tickWaits, 30000);

  /* ---------- the open conversation ---------- */

  function messageItem(c, message) {
    var li = document.createElement("li");
    if (message.sender === "system" && message.kind === "returned") {
      li.className = "msg system returned";
      if (codable(c)) {
        var link = document.createElement("a");
        link.href = codingUrl(c.id);
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = T.returned;
        li.appendChild(link);
      } else {
        li.textContent = T.returnedWaiting;
      }
      return li;
    }
    if (message.sender === "system") {
      li.className = "msg system";
      li.textContent = message.kind === "joined" ? (c.mine ? T.joined : T.joinedColleague)
        : message.kind === "quick_exit" ? T.leftQuickly
        : message.kind === "transferred" ? T.transferredMessage
        : message.kind === "requeued" ? T.requeuedMessage
        : (c.endedBy === "visitor" ? T.endedByVisitor : c.endedBy === "counsellor" ? T.endedByCounsellor : T.ended);
      if (message.kind === "quick_exit") li.classList.add("left-quickly");
      return li;
    }
    li.className = "msg " + (message.sender === "counsellor" ? "mine" : "theirs");
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = message.sender === "counsellor" ? T.you : T.visitor;
    var body = document.createElement("p");
    body.className = "text";
    body.dir = "auto";
    body.textContent = message.text;   // always text, never HTML
    li.appendChild(who);
    li.appendChild(body);
    if (message.sent_at) {
      var time = document.createElement("time");
      time.dateTime = message.sent_at;
      time.textContent = window.HavenSocket.time(message.sent_at, config.language, config.timeZone);
      li.appendChild(time);
    }
    if (message.pending) {
      li.classList.add("pending");
      var note = document.createElement("span");
      note.className = "small";
      note.textContent = T.sending;
      li.appendChild(note);
    }
    return li;
  }

  function renderPane() {
    if (!current) {
      el.conversation.hidden = true;
      el.paneEmpty.hidden = false;
      return;
    }
    var c = conv(current);
    el.paneEmpty.hidden = true;
    el.conversation.hidden = false;
    el.title.textContent = fmt(T.conversation, { short: nameOf(c.id) });
    // Notes: in a conversation of one's own (or, for a supervisor, any) that still has its
    // transcript; the text comes with "open" and with every change.
    notesBox.hidden = !(c.mine || live !== null) || c.status === "waiting";
    if (document.activeElement !== notesText) notesText.value = c.notes || "";
    el.accept.hidden = c.status !== "waiting";
    el.accept.disabled = !availability.available;
    el.code.hidden = !codable(c);
    el.code.href = codingUrl(c.id);
    el.code.setAttribute("aria-label", fmt(T.codeConversation, { short: nameOf(c.id) }));
    el.end.hidden = !((c.mine || live !== null) && c.status === "active");
    el.block.hidden = el.end.hidden;
    urgentButton.hidden = el.end.hidden;
    transferButton.hidden = el.end.hidden;
    if (el.end.hidden) closeTransfer();
    renderTeam(c);
    urgentButton.setAttribute("aria-pressed", c.urgent ? "true" : "false");
    el.composer.hidden = !(c.mine && c.status === "active");
    dangerNote.hidden = !c.danger || c.status === "ended";
    if (c.status === "waiting") el.status.textContent = T.waitingPreview;
    else if (c.status === "active" && !c.mine) el.status.textContent = T.readOnly;
    else if (c.status === "taken") el.status.textContent = T.taken;
    else if (c.status === "ended") el.status.textContent = c.leftQuickly ? T.leftQuickly : T.ended;
    else if (c.covered) el.status.textContent = T.covered;
    else el.status.textContent = "";
    el.log.textContent = "";
    Object.keys(c.messages).map(Number).sort(function (a, b) { return a - b; }).forEach(function (seq) {
      el.log.appendChild(messageItem(c, c.messages[seq]));
    });
    c.outbox.forEach(function (entry) {
      el.log.appendChild(messageItem(c, { sender: "counsellor", kind: "text", text: entry.text, pending: true }));
    });
    el.log.scrollTop = el.log.scrollHeight;
    markRead(c);
  }

  function markRead(c) {
    if (!c.mine || c.id !== current || document.hidden) return;
    if (c.unread > 0 || c.readSent !== c.lastSeq) {
      c.unread = 0;
      c.readSent = c.lastSeq;
      socket.send({ type: "read", conversation: c.id, seq: c.lastSeq });
      renderMine();
    }
  }

  function openConversation(id) {
    if (current && conversations[current]) conversations[current].draft = el.message.value;
    window.clearTimeout(notesTimer);
    saveNotes();  // notes typed in the conversation being left go now
    current = id;
    var c = conv(id);
    el.message.value = c.draft || "";
    el.error.textContent = "";
    el.typing.textContent = "";
    socket.send({ type: "open", conversation: id, last_seq: c.lastSeq });
    renderQueue();
    renderMine();
    renderPane();
    if (c.mine && c.status === "active") el.message.focus();
  }

  // Conversations this page asked to accept: only those open by themselves when they are
  // assigned. One transferred to this counsellor is added to the list and announced, never
  // put in front of them while they write to someone else.
  var accepting = {};

  function acceptConversation(id) {
    accepting[id] = true;
    socket.send({ type: "accept", conversation: id });
  }

  function addMessage(c, message) {
    if (c.messages[message.seq]) return false;
    c.messages[message.seq] = message;
    if (message.kind === "quick_exit") c.leftQuickly = true;
    // lastSeq: every number up to it is here. A gap means a live event went missing.
    while (c.messages[c.lastSeq + 1]) c.lastSeq += 1;
    if (message.seq > c.lastSeq + 1) {
      socket.send({ type: "open", conversation: c.id, last_seq: c.lastSeq });
    }
    if (message.sender === "counsellor" && message.client_id) {
      c.outbox = c.outbox.filter(function (e) { return e.client_id !== message.client_id; });
    }
    if (message.kind === "ended") {
      if (c.status !== "ended") countSoon();
      c.status = "ended";
    }
    return true;
  }

  /* ---------- frames ---------- */

  function onFrame(frame) {
    var c;
    switch (frame.type) {
      case "hello":
        el.connection.textContent = T.connected;
        // A fresh picture: what the server has now replaces everything heard before.
        // Whether a visitor hid the chat is not kept by the server: forget it rather than
        // show a stale "hidden"; a visitor still hidden says so again on reconnecting.
        Object.keys(conversations).forEach(function (id) { conversations[id].covered = false; });
        queue = {};
        queueSeq = {};
        frame.queue.forEach(function (entry) {
          queue[entry.conversation] = entry;
          queueSeq[entry.conversation] = rank(entry.seq, false);
        });
        if (frame.live) {
          live = {};
          liveSeq = {};
          frame.live.forEach(function (entry) {
            live[entry.conversation] = entry;
            liveSeq[entry.conversation] = rank(entry.last_seq, false);
          });
        }
        frame.conversations.forEach(function (entry) {
          c = conv(entry.conversation);
          absorb(c, entry);
          c.mine = true;
          c.status = entry.status;
          c.unread = entry.unread;
          c.startedAt = entry.started_at;
        });
        showLetters(frame.letters_awaiting);
        showAvailability(frame.availability);
        // Catch up every conversation this page knows, then resend what was not stored.
        resync();
        renderQueue();
        renderMine();
        renderLive();
        renderPane();
        break;
      case "letters":
        showLetters(frame.awaiting);
        break;
      case "urgent":
        c = conv(frame.conversation);
        var wasUrgent = !!c.urgent;
        c.urgent = frame.urgent;
        if (live !== null && live[frame.conversation]) live[frame.conversation].urgent = frame.urgent;
        if (live !== null && frame.urgent && !wasUrgent) {
          // A supervisor's screen: at once, with a sound unless turned off.
          say(fmt(T.urgentAlert, { short: frame.number || shortId(frame.conversation), counsellor: frame.counsellor }));
          notify();
        }
        renderMine();
        renderLive();
        if (c.id === current) renderPane();
        break;
      case "staff_notes":
        c = conv(frame.conversation);
        c.staffNotes = {};
        frame.notes.forEach(function (note) { c.staffNotes[note.id] = note; });
        if (c.id === current) renderTeam(c);
        break;
      case "staff_note":
        c = conv(frame.conversation);
        c.staffNotes = c.staffNotes || {};
        if (c.staffNotes[frame.note.id]) break;  // a supervisor who holds it hears it twice
        c.staffNotes[frame.note.id] = frame.note;
        if (c.id === current) renderTeam(c);
        if (frame.note.author !== config.userName) {
          say(fmt(frame.note.kind === "transfer" ? T.transferNoteFrom : T.whisperFrom,
            { name: frame.note.author, short: nameOf(c.id) }));
          notify();
        }
        break;
      case "notes":
        c = conv(frame.conversation);
        c.notes = frame.text;
        if (c.id === current && document.activeElement !== notesText) notesText.value = frame.text;
        if (c.id === current && notesPending === null) notesState.textContent = frame.text ? T.notesSaved : "";
        break;
      case "availability":
        showAvailability(frame);
        renderQueue();
        if (current) renderPane();
        break;
      case "queue_entry":
        if (newer(queueSeq, frame.entry.conversation, frame.entry.seq, false)) {
          // seq 0: a visitor just started (not an entry heard again after a reconnect).
          if (frame.entry.seq === 0 && !queue[frame.entry.conversation]) notify();
          queue[frame.entry.conversation] = frame.entry;
          renderQueueSoon();
        }
        break;
      case "queue_leave":
        if (newer(queueSeq, frame.conversation, frame.seq, true)) {
          delete queue[frame.conversation];
          renderQueueSoon();
        }
        break;
      case "live_entry":
        if (live !== null && newer(liveSeq, frame.conversation.conversation, frame.conversation.last_seq, false)) {
          live[frame.conversation.conversation] = frame.conversation;
          renderLive();
        }
        break;
      case "live_leave":
        if (live !== null && newer(liveSeq, frame.conversation, frame.seq, true)) {
          delete live[frame.conversation];
          renderLive();
        }
        break;
      case "assigned":
        c = conv(frame.conversation.conversation);
        absorb(c, frame.conversation);
        if (queue[c.id]) absorb(c, queue[c.id]);
        c.mine = true;
        c.status = frame.conversation.status;
        c.unread = frame.conversation.unread;
        if (accepting[c.id] || !current) {
          delete accepting[c.id];
          openConversation(c.id);
        } else {
          // Transferred to this counsellor: in the list, announced, not switched to.
          socket.send({ type: "open", conversation: c.id, last_seq: c.lastSeq });
          say(fmt(T.transferredToYou, { short: nameOf(c.id) }));
          notify();
          renderMine();
        }
        break;
      case "history":
        c = conv(frame.conversation);
        // A fresh reading says the status as it is now (also after "taken": a conversation
        // can come back, put back in the queue or transferred again).
        c.status = frame.status;
        frame.messages.forEach(function (m) { addMessage(c, m); });
        c.outbox.forEach(function (entry) {
          socket.send({ type: "send", conversation: c.id, client_id: entry.client_id, text: entry.text });
        });
        if (c.id === current) renderPane();
        break;
      case "message":
        c = conv(frame.conversation);
        if (addMessage(c, frame.message)) {
          if (frame.message.sender === "visitor" && c.mine && (c.id !== current || document.hidden)) {
            c.unread += 1;
            notify();
          }
          if (frame.message.sender === "visitor" && c.id === current) el.typing.textContent = "";
          if (c.id === current) renderPane();
          renderMine();
        }
        break;
      case "ack":
        c = conv(frame.conversation);
        var acked = c.outbox.filter(function (e) { return e.client_id === frame.client_id; })[0];
        if (acked) {
          addMessage(c, {
            seq: frame.seq, sender: "counsellor", kind: "text", text: acked.text,
            client_id: frame.client_id, sent_at: new Date().toISOString(),
          });
          if (c.id === current) renderPane();
        }
        break;
      case "state":
        c = conv(frame.conversation);
        if (frame.status === "ended" && c.status !== "ended") countSoon();
        c.status = frame.status;
        if (frame.ended_by) c.endedBy = frame.ended_by;
        if (frame.quick) c.leftQuickly = true;
        if (frame.status === "ended" && c.id === current) {
          // Whoever ended it, nobody is typing any more: not for five more seconds.
          window.clearTimeout(typingTimer);
          el.typing.textContent = "";
        }
        if (frame.status === "taken" && c.mine) {
          // Transferred to a colleague, or back to the queue: no longer this console's.
          c.mine = false;
          say(fmt(T.transferredAway, { short: nameOf(c.id) }));
        } else if (frame.status === "taken" && c.id === current) {
          say(T.taken);
        }
        if (c.id === current) renderPane();
        renderMine();
        break;
      case "read":
        c = conv(frame.conversation);
        c.unread = 0;
        c.readSent = frame.seq;
        renderMine();
        break;
      case "cover":
        c = conv(frame.conversation);
        c.covered = frame.covered;
        if (c.id === current) {
          renderPane();
          if (!frame.covered) say(T.uncovered);
        }
        renderMine();
        break;
      case "typing":
        if (frame.conversation !== current) break;
        el.typing.textContent = T.typing;
        window.clearTimeout(typingTimer);
        typingTimer = window.setTimeout(function () { el.typing.textContent = ""; }, 5000);
        break;
      case "error":
        if (frame.client_id && frame.conversation) {
          c = conv(frame.conversation);
          if (frame.code === "rate_limited" || frame.code === "try_again") {
            // Kept in the outbox and sent again after the pause ("try_again": the server
            // could not store it just now).
            window.setTimeout(function () { resend(c); }, Math.max(1, frame.retry_after || 1) * 1000);
          } else {
            var entry = c.outbox.filter(function (e) { return e.client_id === frame.client_id; })[0];
            c.outbox = c.outbox.filter(function (e) { return e.client_id !== frame.client_id; });
            if (entry && frame.conversation === current && !el.message.value) el.message.value = entry.text;
            if (c.id === current) renderPane();
          }
          el.error.textContent = frame.message;
        } else if (frame.code === "rate_limited" || frame.code === "try_again") {
          // An "open" was refused for speed, or could not be read just now: catch up every
          // conversation after the pause.
          window.setTimeout(resync, Math.max(1, frame.retry_after || 1) * 1000);
          if (frame.code === "try_again") say(frame.message);
        } else {
          // An accept that was refused leaves nothing pending.
          if (frame.conversation) delete accepting[frame.conversation];
          say(frame.message);
        }
        break;
    }
  }

  /* ---------- notifications: a sound and the tab's title ---------- */

  // A new visitor in the queue, or a visitor's message in one of this counsellor's chats
  // that is not on screen: a short tone, and "(2) " before the tab's title until the
  // counsellor looks. Each can be turned off; the choice is kept in this browser, per
  // account (a counsellor's own computer: nothing of a visitor is in it).
  var PREFS_KEY = "haven.console.notify." + config.userId;
  var baseTitle = document.title;
  var unseen = 0;
  var prefs = (function () {
    try {
      return JSON.parse(window.localStorage.getItem(PREFS_KEY) || "{}");
    } catch (e) {
      return {};
    }
  })();
  var soundBox = document.getElementById("notify-sound");
  var titleBox = document.getElementById("notify-title");
  soundBox.checked = prefs.sound !== false;
  titleBox.checked = prefs.title !== false;

  function savePrefs() {
    prefs = { sound: soundBox.checked, title: titleBox.checked };
    try { window.localStorage.setItem(PREFS_KEY, JSON.stringify(prefs)); } catch (e) { /* kept for this page only */ }
    if (!titleBox.checked) clearUnseen();
  }
  soundBox.addEventListener("change", savePrefs);
  // A browser lets a page make sound only after a click or a key in it: get the sound
  // ready then, so that the first new visitor is heard.
  function wakeAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      audio = audio || new Context();
      if (audio.resume) audio.resume();
    } catch (e) { /* no sound here */ }
  }
  document.addEventListener("click", wakeAudio);
  document.addEventListener("keydown", wakeAudio);
  titleBox.addEventListener("change", savePrefs);

  var audio = null;
  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      audio = audio || new Context();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 660;
      gain.gain.setValueAtTime(0.08, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.35);
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.35);
    } catch (e) { /* no sound here: the title still says it */ }
  }

  function notify() {
    if (soundBox.checked) beep();
    if (titleBox.checked && (document.hidden || !document.hasFocus())) {
      unseen += 1;
      document.title = "(" + unseen + ") " + baseTitle;
    }
  }

  function clearUnseen() {
    unseen = 0;
    document.title = baseTitle;
  }
  window.addEventListener("focus", clearUnseen);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) clearUnseen(); });

  /* ---------- canned responses: "/" and a shortcut, then edit before sending ---------- */

  var cannedList = document.getElementById("canned-list");
  var cannedMatches = [];
  var cannedActive = -1;

  function closeCanned() {
    cannedMatches = [];
    cannedActive = -1;
    cannedList.textContent = "";
    cannedList.hidden = true;
    el.message.removeAttribute("aria-activedescendant");
  }

  function showCanned() {
    var typed = /^\/([A-Za-z0-9_-]*)$/.exec(el.message.value);
    if (!typed || !config.canned.length) {
      closeCanned();
      return;
    }
    var wanted = typed[1].toLowerCase();
    // The visitor's own language first, so that Enter picks the response they can read.
    var language = current && conversations[current] && conversations[current].language;
    cannedMatches = config.canned
      .filter(function (r) { return r.shortcut.toLowerCase().indexOf(wanted) === 0; })
      .sort(function (a, b) { return (a.language === language ? 0 : 1) - (b.language === language ? 0 : 1); })
      .slice(0, 8);
    cannedList.textContent = "";
    if (!cannedMatches.length) {
      closeCanned();
      return;
    }
    cannedMatches.forEach(function (response, index) {
      var option = document.createElement("li");
      option.id = "canned-option-" + index;
      option.setAttribute("role", "option");
      option.textContent = "/" + response.shortcut + " · " + response.title + " (" + response.language.toUpperCase() + ")";
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();  // the reply box keeps the focus
        insertCanned(index);
      });
      cannedList.appendChild(option);
    });
    cannedList.hidden = false;
    markCanned(0);
  }

  function markCanned(index) {
    cannedActive = index;
    Array.prototype.forEach.call(cannedList.children, function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    el.message.setAttribute("aria-activedescendant", "canned-option-" + index);
  }

  function insertCanned(index) {
    var response = cannedMatches[index];
    closeCanned();
    if (!response) return;
    // In the box, not sent: the counsellor makes it fit this visitor first.
    el.message.value = response.text;
    el.message.focus();
    el.message.setSelectionRange(el.message.value.length, el.message.value.length);
  }

  // Arrow keys choose, Enter or Tab inserts, Escape closes; true when the key was used here.
  function cannedKey(event) {
    if (cannedList.hidden || !cannedMatches.length) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      markCanned((cannedActive + step + cannedMatches.length) % cannedMatches.length);
      return true;
    }
    if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      insertCanned(cannedActive);
      return true;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      closeCanned();
      return true;
    }
    return false;
  }

  /* ---------- an emergency, flagged by the conversation's counsellor ---------- */

  var urgentButton = document.getElementById("urgent-current");
  var dangerNote = document.getElementById("danger-note");
  urgentButton.addEventListener("click", function () {
    if (!current) return;
    var c = conv(current);
    socket.send({ type: "urgent", conversation: current, urgent: !c.urgent });
  });

  /* ---------- the counsellor's notes on a conversation ---------- */

  var notesBox = document.getElementById("notes-box");
  var notesText = document.getElementById("notes-text");
  var notesState = document.getElementById("notes-state");
  var notesPending = null;   // {conversation, text} waiting for a pause in typing
  var notesTimer = null;

  function saveNotes() {
    if (!notesPending) return;
    if (socket.send({ type: "notes", conversation: notesPending.conversation, text: notesPending.text })) {
      notesPending = null;
    } else {
      notesTimer = window.setTimeout(saveNotes, 2000);  // the connection is back soon
    }
  }

  notesText.addEventListener("input", function () {
    if (!current) return;
    conv(current).notes = notesText.value;
    notesPending = { conversation: current, text: notesText.value };
    notesState.textContent = T.notesSaving;
    window.clearTimeout(notesTimer);
    notesTimer = window.setTimeout(saveNotes, 800);
  });

  /* ---------- for the team only: whispers and transfer notes ---------- */

  var teamBox = document.getElementById("team-box");
  var teamNotes = document.getElementById("team-notes");
  var whisperForm = document.getElementById("whisper-form");
  var whisperText = document.getElementById("whisper-text");

  function renderTeam(c) {
    var notes = Object.keys(c.staffNotes || {}).map(function (id) { return c.staffNotes[id]; })
      .sort(function (a, b) { return a.id - b.id; });
    var mayWrite = (c.mine || live !== null) && c.status === "active";
    teamBox.hidden = !(mayWrite || notes.length);
    whisperForm.hidden = !mayWrite;
    teamNotes.textContent = "";
    notes.forEach(function (note) {
      var li = document.createElement("li");
      li.className = "team-note " + note.kind;
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = note.kind === "transfer"
        ? fmt(note.to ? T.transferredTo : T.transferredToQueue, { name: note.author, to: note.to })
        : fmt(T.whisperBy, { name: note.author });
      li.appendChild(who);
      if (note.text) {
        var body = document.createElement("p");
        body.className = "text";
        body.dir = "auto";
        body.textContent = note.text;   // always text, never HTML
        li.appendChild(body);
      }
      var time = document.createElement("time");
      time.dateTime = note.sent_at;
      time.textContent = window.HavenSocket.time(note.sent_at, config.language, config.timeZone);
      li.appendChild(time);
      teamNotes.appendChild(li);
    });
  }

  whisperForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = whisperText.value;
    if (!current || !text.trim()) return;
    if (socket.send({ type: "whisper", conversation: current, text: text })) whisperText.value = "";
  });

  /* ---------- transfer: to a colleague, or back to the queue ---------- */

  var transferButton = document.getElementById("transfer-current");
  var transferForm = document.getElementById("transfer-form");
  var transferTo = document.getElementById("transfer-to");
  var transferNote = document.getElementById("transfer-note");

  function closeTransfer() {
    transferForm.hidden = true;
    transferButton.setAttribute("aria-expanded", "false");
  }

  function option(value, text, disabled) {
    var item = document.createElement("option");
    item.value = String(value);
    item.textContent = text;
    item.disabled = !!disabled;
    return item;
  }

  transferButton.addEventListener("click", function () {
    if (!transferForm.hidden) { closeTransfer(); return; }
    transferTo.textContent = "";
    transferTo.appendChild(option(0, T.backToQueue));
    transferNote.value = "";
    transferForm.hidden = false;
    transferButton.setAttribute("aria-expanded", "true");
    transferTo.focus();
    // Colleagues with a console open now (asked each time: who is there changes).
    fetch(transferForm.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { colleagues: [] }; })
      .then(function (data) {
        data.colleagues.forEach(function (person) {
          var label = fmt(person.available ? T.colleagueAvailable : T.colleagueAway,
            { name: person.name, count: person.chats });
          transferTo.appendChild(option(person.id, label, !person.available));
        });
      })
      .catch(function () { /* the queue is still offered */ });
  });
  document.getElementById("transfer-cancel").addEventListener("click", function () {
    closeTransfer();
    transferButton.focus();
  });
  transferForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) return;
    if (socket.send({
      type: "transfer", conversation: current, to: Number(transferTo.value) || 0, note: transferNote.value,
    })) closeTransfer();
  });

  /* ---------- the referral directory: search, then insert into the reply ---------- */

  var referralSearch = document.getElementById("referral-search");
  var referralResults = document.getElementById("referral-results");
  var referrals = config.referrals || [];

  // Every word typed must be found somewhere in the entry (organisation, what they help
  // with, region, for whom), case and accents aside.
  function plain(text) {
    return (text || "").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  function referralText(entry) {
    return [entry.organisation, entry.phone ? fmt(T.referralPhone, { phone: entry.phone }) : "",
      entry.website, entry.hours].filter(Boolean).join("\n");
  }

  function insertReferral(entry) {
    var text = referralText(entry);
    var box = el.message;
    var start = box.selectionStart || 0;
    var end = box.selectionEnd || 0;
    var before = box.value.slice(0, start);
    var glue = before && !/\n$/.test(before) ? "\n" : "";
    box.value = before + glue + text + box.value.slice(end);
    box.focus();
    var caret = (before + glue + text).length;
    box.setSelectionRange(caret, caret);
  }

  function renderReferrals() {
    var words = plain(referralSearch.value).split(/\s+/).filter(Boolean);
    referralResults.textContent = "";
    var found = referrals.filter(function (entry) {
      var haystack = plain([entry.organisation, entry.helps_with, entry.region, entry.audience_label].join(" "));
      return words.every(function (word) { return haystack.indexOf(word) !== -1; });
    });
    if (!found.length) {
      var none = document.createElement("li");
      none.className = "small";
      none.textContent = T.referralNone;
      referralResults.appendChild(none);
      return;
    }
    found.forEach(function (entry) {
      var li = document.createElement("li");
      li.className = "referral";
      var name = document.createElement("strong");
      name.textContent = entry.organisation;
      var about = document.createElement("p");
      about.className = "small";
      about.textContent = [entry.helps_with, entry.region, entry.audience_label, entry.hours, entry.phone]
        .filter(Boolean).join(" · ");
      var insert = document.createElement("button");
      insert.type = "button";
      insert.className = "secondary";
      insert.textContent = T.referralInsert;
      insert.setAttribute("aria-label", T.referralInsert + " " + entry.organisation);
      insert.addEventListener("click", function () { insertReferral(entry); });
      li.appendChild(name);
      li.appendChild(about);
      li.appendChild(insert);
      referralResults.appendChild(li);
    });
  }
  referralSearch.addEventListener("input", renderReferrals);
  referralSearch.addEventListener("keydown", function (event) {
    if (event.key === "Enter") event.preventDefault();  // searching, not sending the reply
  });
  renderReferrals();

  /* ---------- available or away, and how many at once ---------- */

  var availability = { available: true, max_chats: 0 };
  var availableBox = document.getElementById("available");
  var maxChats = document.getElementById("max-chats");
  var awayNote = document.getElementById("away-note");

  function showAvailability(settings) {
    if (!settings) return;
    availability = settings;
    availableBox.checked = settings.available;
    maxChats.value = String(settings.max_chats || 0);
    awayNote.hidden = settings.available;
  }

  function sendAvailability() {
    socket.send({
      type: "availability",
      available: availableBox.checked,
      max_chats: Number(maxChats.value) || 0,
    });
  }
  availableBox.addEventListener("change", sendAvailability);
  maxChats.addEventListener("change", sendAvailability);

  /* ---------- messages left for later ---------- */

  // How many wait for an answer, in the header link (sent at hello and after each change).
  function showLetters(count) {
    if (!el.lettersCount) return;
    el.lettersCount.textContent = count ? String(count) : "";
    el.lettersHint.textContent = count ? " " + T.lettersWaiting : "";
  }

  /* ---------- coding ---------- */

  // How many ended conversations wait to be coded, in the header link. Asked again when a
  // conversation ends and when the counsellor comes back to this tab; never on a timer,
  // because every request renews the session and an idle console must still expire.
  function refreshCodingCount() {
    var url = el.codingLink && el.codingLink.getAttribute("data-count-url");
    if (!url || !window.fetch) return;
    window.fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        var count = data.still_to_code;
        el.codingCount.textContent = count ? String(count) : "";
        el.codingHint.textContent = count ? " " + T.codingStill : "";
      })
      .catch(function () { /* the count is a convenience; the overview has the truth */ });
  }

  var countTimer = null;
  function countSoon() {
    window.clearTimeout(countTimer);
    countTimer = window.setTimeout(refreshCodingCount, 500);
  }

  function resync() {
    Object.keys(conversations).forEach(function (id) {
      var c = conversations[id];
      if (c.mine || id === current) socket.send({ type: "open", conversation: id, last_seq: c.lastSeq });
    });
  }

  function resend(c) {
    c.outbox.forEach(function (entry) {
      socket.send({ type: "send", conversation: c.id, client_id: entry.client_id, text: entry.text });
    });
  }

  /* ---------- composing ---------- */

  el.composer.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) return;
    var c = conv(current);
    var text = el.message.value;
    if (!text.trim()) return;
    el.error.textContent = "";
    var entry = { client_id: window.HavenSocket.newId(), text: text };
    c.outbox.push(entry);
    el.message.value = "";
    c.draft = "";
    socket.send({ type: "send", conversation: c.id, client_id: entry.client_id, text: text });
    renderPane();
  });

  el.message.addEventListener("keydown", function (event) {
    if (cannedKey(event)) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      el.composer.requestSubmit();
    }
  });

  el.message.addEventListener("input", function () {
    showCanned();
    var now = Date.now();
    if (current && now - lastTypingSent > 3000) {
      lastTypingSent = now;
      socket.send({ type: "typing", conversation: current });
    }
  });

  el.accept.addEventListener("click", function () { if (current) acceptConversation(current); });
  el.block.addEventListener("click", function () {
    if (current && window.confirm(T.blockConfirm)) socket.send({ type: "block", conversation: current });
  });
  el.end.addEventListener("click", function () {
    if (current && window.confirm(T.endConfirm)) socket.send({ type: "end", conversation: current });
  });

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && current) markRead(conv(current));
    if (!document.hidden) refreshCodingCount();
  });

  var socket = new window.HavenSocket("/ws/console/?lang=" + encodeURIComponent(config.language), {
    open: function () { el.connection.textContent = T.connected; },
    frame: onFrame,
    close: function (code) {
      // 4403: no longer allowed (signed out, or the role was taken away): reload, which
      // leads to the sign-in page.
      if (code === 4403) window.location.reload();
      el.connection.textContent = T.reconnecting;
    },
  });
  el.connection.textContent = T.connecting;
  socket.open();
  renderQueue();
  renderMine();
  refreshCodingCount();
})();
