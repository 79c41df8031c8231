// The Support chat bubble (templates/support/_bubble.html) and the live side of the support
// inbox. One WebSocket per tab (studyhall/support/consumers.py) brings messages as they are
// written; while it is down, the [data-support-poll] elements are told to poll over htmx every
// few seconds instead, each sending the newest message id its log shows. Messages are sent over
// HTTP either way. User text only ever reaches the page through textContent. Nothing here
// needs eval: the page's Content-Security-Policy has no 'unsafe-eval'.
(function () {
  "use strict";

  var root = document.getElementById("support-chat");
  if (!root) return;

  var isAgent = root.getAttribute("data-agent") === "true";
  var userId = parseInt(root.getAttribute("data-user-id"), 10);
  var toggle = document.getElementById("support-chat-toggle");
  var panel = document.getElementById("support-chat-panel");
  // Reconnect after 1, 2, 4, 8, then every 15 seconds, with jitter.
  var BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];

  var state = {
    socket: null,
    live: false,
    everLive: false,
    attempts: 0,
    heartbeat: null,
    reconnect: null,
    unread: 0,
    loaded: false,
    loading: null,
  };

  // -- For htmx's polling fallback ----------------------------------------------------------

  window.StudyhallChat = {
    offline: function () {
      return !state.live;
    },
    // The newest message id shown in a log; -1 when the log is not on the page (the poll then
    // only brings the unread count).
    lastId: function (logId) {
      var log = document.getElementById(logId);
      if (!log) return -1;
      var last = 0;
      log.querySelectorAll("[data-id]").forEach(function (item) {
        last = Math.max(last, parseInt(item.getAttribute("data-id"), 10) || 0);
      });
      return last;
    },
  };

  var POLL_EVERY_MS = 5000;
  setInterval(function () {
    if (state.live || !window.htmx) return;
    document.querySelectorAll("[data-support-poll]").forEach(function (poll) {
      window.htmx.trigger(poll, "support:poll");
    });
  }, POLL_EVERY_MS);

  document.addEventListener("htmx:configRequest", function (event) {
    var poll = event.detail.elt;
    if (!poll || !poll.hasAttribute || !poll.hasAttribute("data-support-poll")) return;
    var after = window.StudyhallChat.lastId(poll.getAttribute("data-log-id"));
    if (after < 0) after = parseInt(poll.getAttribute("data-after-default"), 10);
    event.detail.parameters.after = after;
  });

  // -- Small helpers --------------------------------------------------------------------------

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function send(frame) {
    if (!state.socket || state.socket.readyState !== WebSocket.OPEN) return false;
    state.socket.send(JSON.stringify(frame));
    return true;
  }

  function isOpen() {
    return !!panel && !panel.hidden;
  }

  function pageLog() {
    // The full-page chat (/support/chat/) stands in for the panel.
    return document.getElementById("support-chat-page");
  }

  function visible() {
    return document.visibilityState === "visible";
  }

  // -- The unread badge -------------------------------------------------------------------------

  function setUnread(count) {
    state.unread = Math.max(0, count | 0);
    var badge = document.getElementById("support-chat-unread");
    if (!badge) return;
    var number = badge.querySelector("[data-unread-number]");
    if (number) number.textContent = String(state.unread);
    badge.setAttribute("data-count", String(state.unread));
    badge.hidden = state.unread === 0;
    if (toggle && !isAgent) {
      toggle.setAttribute(
        "aria-label",
        state.unread
          ? "Chat with Support, " + state.unread + " unread " + (state.unread === 1 ? "reply" : "replies")
          : "Chat with Support"
      );
    }
  }

  function markSeen() {
    if (isAgent || !(isOpen() || pageLog()) || !visible()) return;
    setUnread(0);
    if (!send({ type: "seen" })) {
      fetch(root.getAttribute("data-seen-url"), {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      }).catch(function () {});
    }
  }

  // -- Messages in a log --------------------------------------------------------------------------

  function authorLabel(frame) {
    if (frame.author_id === userId) return "You";
    return frame.from_agent ? frame.author + " (Support)" : frame.author;
  }

  // As the server writes it ("Nov 24, 3:26 PM"), in the user's own time zone.
  function timeLabel(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    var options = { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" };
    try {
      return date.toLocaleString("en-US", Object.assign({ timeZone: root.getAttribute("data-time-zone") }, options));
    } catch (error) {
      return date.toLocaleString("en-US", options);
    }
  }

  function messageItem(frame) {
    var item = document.createElement("li");
    item.className = "support-msg support-msg--" + (frame.from_agent ? "agent" : "user");
    item.id = "support-msg-" + frame.id;
    item.setAttribute("data-id", String(frame.id));
    var meta = document.createElement("span");
    meta.className = "support-msg__meta";
    var author = document.createElement("span");
    author.className = "support-msg__author";
    author.textContent = authorLabel(frame);
    var time = document.createElement("time");
    time.setAttribute("datetime", frame.at);
    time.textContent = timeLabel(frame.at);
    meta.appendChild(author);
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(time);
    var text = document.createElement("p");
    text.className = "support-msg__text";
    text.textContent = frame.text;
    item.appendChild(meta);
    item.appendChild(text);
    return item;
  }

  function nearBottom(log) {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  function scrollDown(log) {
    log.scrollTop = log.scrollHeight;
  }

  // A message can arrive twice (the socket, and the send's own answer or a catch-up poll):
  // keep the first of each id, in id order.
  function tidy(log) {
    var seen = {};
    log.querySelectorAll("[data-id]").forEach(function (item) {
      var id = item.getAttribute("data-id");
      if (seen[id]) item.remove();
      else seen[id] = true;
    });
    var empty = document.getElementById("support-chat-empty");
    if (empty && log.id === "support-chat-log" && log.querySelector("[data-id]")) empty.hidden = true;
  }

  function logsFor(frame) {
    var logs = [];
    document.querySelectorAll("[data-support-log]").forEach(function (log) {
      var which = log.getAttribute("data-support-log");
      if ((which === "mine" && !isAgent) || which === String(frame.conversation)) logs.push(log);
    });
    return logs;
  }

  function receiveMessage(frame) {
    var logs = logsFor(frame);
    logs.forEach(function (log) {
      if (document.getElementById("support-msg-" + frame.id)) return;
      var stick = nearBottom(log);
      log.appendChild(messageItem(frame));
      tidy(log);
      if (stick || frame.author_id === userId) scrollDown(log);
    });
    if (isAgent) {
      changed(frame);
      if (!frame.from_agent && !logs.length) showAgentDot();
      return;
    }
    if (frame.from_agent) {
      if ((isOpen() || pageLog()) && visible()) markSeen();
      else setUnread(state.unread + 1);
    }
  }

  // Tell the agent's page a conversation changed: the inbox refreshes its lists, and that
  // conversation's page its header (status, assignee).
  function changed(frame) {
    document.body.dispatchEvent(
      new CustomEvent("support:changed", { bubbles: true, detail: { conversation: frame.conversation } })
    );
  }

  // The conversation page shows the reply form while open and a note while closed; its header
  // (swapped live) says which.
  function followStatus() {
    var status = document.querySelector("#conversation-header [data-status]");
    if (!status) return;
    var open = status.getAttribute("data-status") === "open";
    document.querySelectorAll("[data-when-open]").forEach(function (el) {
      el.hidden = !open;
    });
    document.querySelectorAll("[data-when-closed]").forEach(function (el) {
      el.hidden = open;
    });
  }
  document.addEventListener("htmx:afterSettle", followStatus);

  // The header refreshes itself when the conversation changes (another agent's action, or the
  // echo of this agent's own). The agent's actions (assign, close, reopen) answer with the
  // header too, and they go at once: a refresh still on its way is abandoned (the action's
  // answer is newer), and a change that arrives while an action is on its way is refreshed
  // once the action has answered. An action never waits behind a refresh: the refresh's answer
  // replaces the action forms, and htmx drops a waiting request whose form has gone.
  var actions = { pending: 0, refresh: null };
  function headerOf(el) {
    return el instanceof Element && el.id === "conversation-header" ? el : null;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target;
    if (!(form instanceof Element) || !form.closest("#conversation-actions")) return;
    var header = document.getElementById("conversation-header");
    actions.pending += 1;
    event.detail.xhr.addEventListener("loadend", function () {
      actions.pending -= 1;
      if (actions.pending || !actions.refresh) return;
      var refresh = actions.refresh;
      actions.refresh = null;
      refresh(true);
    });
    if (header) header.dispatchEvent(new CustomEvent("htmx:abort", { bubbles: true, detail: {} }));
  });
  document.addEventListener("htmx:confirm", function (event) {
    if (!headerOf(event.target) || !actions.pending) return;
    event.preventDefault();
    actions.refresh = event.detail.issueRequest;
  });

  function showAgentDot() {
    var badge = document.getElementById("support-chat-unread");
    if (badge) badge.hidden = false;
    if (toggle) toggle.setAttribute("aria-label", "Support inbox, new messages");
  }

  // -- The socket ---------------------------------------------------------------------------------

  // The page's own host, on the WebSocket server's port when it has one of its own (base.html).
  function socketHost() {
    var port = document.querySelector('meta[name="studyhall-socket-port"]');
    return port ? location.hostname + ":" + port.content : location.host;
  }

  function connect() {
    clearTimeout(state.reconnect);
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket;
    try {
      socket = new WebSocket(scheme + socketHost() + root.getAttribute("data-socket-path"));
    } catch (error) {
      retry();
      return;
    }
    state.socket = socket;
    socket.addEventListener("message", function (event) {
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      handle(frame);
    });
    socket.addEventListener("close", function (event) {
      if (state.socket !== socket) return;
      state.live = false;
      clearInterval(state.heartbeat);
      root.setAttribute("data-live", "false");
      if (event.code === 4403) return; // signed out: the polls will say so too
      retry();
    });
  }

  function retry() {
    var wait = BACKOFF_MS[Math.min(state.attempts, BACKOFF_MS.length - 1)];
    state.attempts += 1;
    state.reconnect = setTimeout(connect, wait + Math.random() * 500);
  }

  function handle(frame) {
    if (frame.type === "welcome") {
      var reconnected = state.everLive;
      state.live = true;
      state.everLive = true;
      state.attempts = 0;
      root.setAttribute("data-live", "true");
      clearInterval(state.heartbeat);
      state.heartbeat = setInterval(function () {
        send({ type: "heartbeat" });
      }, (frame.heartbeat_seconds || 60) * 1000);
      if (!isAgent) setUnread(frame.unread);
      if ((isOpen() || pageLog()) && state.unread) markSeen();
      // Whatever was written while the socket was down.
      if (reconnected && window.htmx) {
        document.querySelectorAll("[data-support-poll]").forEach(function (poll) {
          window.htmx.trigger(poll, "support:catchup");
        });
      }
    } else if (frame.type === "message") {
      receiveMessage(frame);
    } else if (frame.type === "unread") {
      if (!isAgent) setUnread(frame.count);
    } else if (frame.type === "conversation") {
      if (isAgent) changed(frame);
    }
  }

  // -- The panel ----------------------------------------------------------------------------------

  function afterLoad() {
    var log = document.getElementById("support-chat-log");
    if (log) {
      tidy(log);
      scrollDown(log);
    }
    var input = document.getElementById("support-chat-input");
    if (input && isOpen()) input.focus();
    markSeen();
  }

  function load() {
    if (state.loaded || state.loading || !window.htmx) return state.loading || Promise.resolve();
    state.loading = window.htmx
      .ajax("GET", root.getAttribute("data-panel-url"), { target: "#support-chat-body", swap: "innerHTML" })
      .then(function () {
        state.loaded = !!document.getElementById("support-chat-log");
        state.loading = null;
      })
      .catch(function () {
        state.loading = null;
      });
    return state.loading;
  }

  function openPanel() {
    if (pageLog()) {
      var pageInput = document.getElementById("support-chat-input");
      if (pageInput) pageInput.focus();
      return;
    }
    panel.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    root.classList.add("support-chat--open");
    if (state.loaded) afterLoad();
    else load().then(afterLoad);
  }

  function closePanel(returnFocus) {
    panel.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    root.classList.remove("support-chat--open");
    if (returnFocus) toggle.focus();
  }

  if (panel && toggle) {
    toggle.addEventListener("click", function () {
      if (isOpen()) closePanel(true);
      else openPanel();
    });
    panel.addEventListener("click", function (event) {
      if (event.target instanceof Element && event.target.closest("[data-chat-close]")) closePanel(true);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && isOpen()) {
        event.preventDefault();
        closePanel(true);
      }
    });
  }

  // Enter sends, Shift+Enter starts a new line.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLTextAreaElement) || event.key !== "Enter" || event.shiftKey) return;
    if (event.isComposing) return;
    var form = target.closest("[data-chat-form]");
    if (!form) return;
    event.preventDefault();
    if (target.value.trim()) form.requestSubmit();
  });

  // After a send: clear the box and keep the cursor in it.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-chat-form")) return;
    if (event.detail.successful) {
      form.reset();
      var box = form.querySelector("textarea");
      if (box) box.focus();
    }
  });

  // Messages swapped in by htmx (a send's answer, a poll): drop doubles, follow the newest,
  // and read the unread count the poll brought.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target instanceof Element && target.hasAttribute("data-support-log")) {
      target.setAttribute("data-stick", nearBottom(target) ? "true" : "false");
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-support-log]").forEach(function (log) {
      tidy(log);
      if (log.getAttribute("data-stick") === "true") scrollDown(log);
      log.removeAttribute("data-stick");
    });
    var badge = document.getElementById("support-chat-unread");
    if (badge && !isAgent) {
      setUnread(parseInt(badge.getAttribute("data-count"), 10) || 0);
      if (state.unread && (isOpen() || pageLog())) markSeen();
    }
  });

  document.addEventListener("visibilitychange", function () {
    if (visible() && (isOpen() || pageLog()) && state.unread) markSeen();
  });

  if (pageLog()) {
    var log = document.getElementById("support-chat-log");
    if (log) scrollDown(log);
  }
  document.querySelectorAll("[data-support-log]").forEach(function (log) {
    scrollDown(log);
  });

  connect();
})();
