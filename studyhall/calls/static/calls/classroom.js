// The online classroom: a WebRTC mesh call (one RTCPeerConnection per other person, up to
// six people), with presence, signalling, chat and live captions over the classroom WebSocket
// (studyhall/calls/consumers.py). Plain JavaScript, no framework; user text only ever goes
// into the page through textContent.

const config = JSON.parse(document.getElementById("classroom-config").textContent);
const byId = (id) => document.getElementById(id);

// Reconnect after 1, 2, 4, 8, then every 15 seconds (with some jitter, so a room that lost
// the server together does not come back in lockstep).
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];
// Someone who reconnects under the same peer id within the server's presence timeout (60 s)
// never left; the id lives in sessionStorage so that it also survives a reload of the tab.
const PEER_KEY = `studyhall.classroom.${config.sessionId}.peer`;
const ENDED_NAVIGATION_DELAY_MS = 2500;

const state = {
  peerId: null,
  socket: null,
  welcomed: false, // a welcome arrived since the page loaded
  attempts: 0,
  lastHeardAt: 0,
  reconnectTimer: null,
  heartbeatTimer: null,
  refusal: null,
  finished: false, // left, ended or refused: never reconnect
  completing: false, // the tutor's "Log time & leave call" is on its way
  minutesPicked: false, // the tutor chose a time in the pop-up: keep it
  ended: false,
  iceServers: [],
  localStream: null,
  audio: false,
  video: false,
  roster: [],
  peers: new Map(), // peer id -> Peer (every other tab in the call)
  waiting: new Map(), // peer id -> signals that arrived before the roster named the peer
  selfTile: null,
};

// -- Small helpers ---------------------------------------------------------------------------

function randomId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function status(text) {
  byId("call-status").textContent = text;
}

function notice(text) {
  const box = byId("call-notice");
  box.textContent = text;
  box.hidden = !text;
}

function send(frame) {
  const socket = state.socket;
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(frame));
  return true;
}

function initials(name) {
  return (name || "?")
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => Array.from(part)[0].toUpperCase())
    .join("");
}

// -- The peer id: one per tab, kept across reconnects ------------------------------------------

// A duplicated tab copies sessionStorage, and two tabs under one peer id would steal each
// other's seat. Ask the other tabs of this browser first; a tab that answers owns the id.
function askOtherTabs(id) {
  if (!("BroadcastChannel" in window)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const channel = new BroadcastChannel("studyhall-classroom");
    const timer = setTimeout(() => {
      channel.close();
      resolve(false);
    }, 150);
    channel.onmessage = (event) => {
      if (event.data && event.data.taken === id) {
        clearTimeout(timer);
        channel.close();
        resolve(true);
      }
    };
    channel.postMessage({ asking: id });
  });
}

async function claimPeerId() {
  let id = null;
  try {
    id = sessionStorage.getItem(PEER_KEY);
  } catch {
    id = null; // storage disabled: a fresh id each load is fine
  }
  if (!id || !/^[A-Za-z0-9-]{8,64}$/.test(id) || (await askOtherTabs(id))) {
    id = randomId();
    try {
      sessionStorage.setItem(PEER_KEY, id);
    } catch {
      // see above
    }
  }
  if ("BroadcastChannel" in window) {
    const channel = new BroadcastChannel("studyhall-classroom");
    channel.onmessage = (event) => {
      if (event.data && event.data.asking === id) channel.postMessage({ taken: id });
    };
  }
  return id;
}

// -- Camera and microphone -----------------------------------------------------------------

function explainMediaError(error) {
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Your browser did not allow this page to use the camera and microphone. You can allow them in the site settings next to the address bar, then try again.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No camera or microphone was found on this device.";
    case "NotReadableError":
    case "AbortError":
      return "Your camera or microphone is being used by another program, or could not be started.";
    default:
      return "Your camera and microphone could not be started.";
  }
}

async function startMedia(constraints) {
  byId("media-choice").hidden = true;
  status("Starting your camera and microphone…");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    offerMediaChoice(
      "This browser cannot use a camera or microphone on this page (it needs a secure https address).",
      false
    );
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    join(stream);
  } catch (error) {
    const audioOnly = !constraints.video;
    let reason = explainMediaError(error);
    if (audioOnly) reason = `Audio only did not work either. ${reason}`;
    offerMediaChoice(reason, !audioOnly);
  }
}

function offerMediaChoice(reason, offerAudio) {
  status("Not in the call yet.");
  byId("media-choice-reason").textContent = reason;
  byId("media-choice").querySelector('[data-join="audio"]').hidden = !offerAudio;
  byId("media-choice").hidden = false;
  byId("media-choice").querySelector("button:not([hidden])").focus();
}

function join(stream) {
  if (state.selfTile) return;
  byId("media-choice").hidden = true;
  state.localStream = stream;
  state.audio = Boolean(stream && stream.getAudioTracks().length);
  state.video = Boolean(stream && stream.getVideoTracks().length);
  state.selfTile = makeTile("self");
  state.selfTile.figure.classList.add("tile--self");
  state.selfTile.video.muted = true;
  state.selfTile.video.srcObject = stream;
  byId("tiles").prepend(state.selfTile.figure);
  updateSelfTile();
  updateControls();
  updateCaptionsButton();
  status("Joining the call…");
  connect();
}

function updateControls() {
  const audioButton = byId("toggle-audio");
  const videoButton = byId("toggle-video");
  const hasAudio = Boolean(state.localStream && state.localStream.getAudioTracks().length);
  const hasVideo = Boolean(state.localStream && state.localStream.getVideoTracks().length);
  audioButton.disabled = !hasAudio || state.finished;
  videoButton.disabled = !hasVideo || state.finished;
  audioButton.textContent = !hasAudio ? "No microphone" : state.audio ? "Mute" : "Unmute";
  videoButton.textContent = !hasVideo
    ? "No camera"
    : state.video
      ? "Turn camera off"
      : "Turn camera on";
  audioButton.setAttribute("aria-pressed", String(hasAudio && !state.audio));
  videoButton.setAttribute("aria-pressed", String(hasVideo && !state.video));
}

function toggle(kind) {
  if (!state.localStream) return;
  const tracks =
    kind === "audio" ? state.localStream.getAudioTracks() : state.localStream.getVideoTracks();
  if (!tracks.length) return;
  state[kind] = !state[kind];
  // Disabling a track sends silence or black frames; nothing needs renegotiating.
  for (const track of tracks) track.enabled = state[kind];
  updateControls();
  updateSelfTile();
  send({ type: "media", audio: state.audio, video: state.video });
}

// -- The WebSocket -------------------------------------------------------------------------

// The page's own host, on the WebSocket server's port when it has one of its own (base.html).
function socketHost() {
  const port = document.querySelector('meta[name="studyhall-socket-port"]');
  return port ? `${location.hostname}:${port.content}` : location.host;
}

function connect() {
  if (state.finished) return;
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = null;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${socketHost()}${config.socketPath}?peer=${encodeURIComponent(state.peerId)}`;
  const socket = new WebSocket(url);
  state.socket = socket;
  socket.addEventListener("message", (event) => {
    if (socket !== state.socket) return;
    state.lastHeardAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    handleFrame(frame);
  });
  socket.addEventListener("close", (event) => onSocketClosed(socket, event));
}

function onSocketClosed(socket, event) {
  if (socket !== state.socket) return;
  state.socket = null; // whatever this socket does from now on is ignored
  stopHeartbeat();
  setChatEnabled(false);
  if (state.finished) return;
  if (event.code === 4403 || event.code === 4400) {
    finish();
    status("Not in the call.");
    notice(state.refusal || "You cannot join this classroom. Go back to the session page.");
    return;
  }
  // Anything else is a lost connection: come back under the same peer id. The video between
  // browsers goes on meanwhile; only signalling and chat wait.
  const base = BACKOFF_MS[Math.min(state.attempts, BACKOFF_MS.length - 1)];
  const wait = Math.round(base * (0.75 + Math.random() * 0.5));
  state.attempts += 1;
  status(`Connection to Studyhall lost; reconnecting in ${Math.max(1, Math.round(wait / 1000))} s…`);
  state.reconnectTimer = setTimeout(connect, wait);
}

function startHeartbeat(seconds) {
  stopHeartbeat();
  const every = Math.max(5, Number(seconds) || 15) * 1000;
  state.lastHeardAt = Date.now();
  state.heartbeatTimer = setInterval(() => {
    const socket = state.socket;
    if (socket && Date.now() - state.lastHeardAt > every * 2.5) {
      // Every heartbeat is answered; this much silence means the network went away without
      // closing the socket. Stop waiting for a close that can take minutes, and reconnect.
      onSocketClosed(socket, { code: 3000 });
      socket.close(3000);
      return;
    }
    send({ type: "heartbeat" });
  }, every);
}

function stopHeartbeat() {
  clearInterval(state.heartbeatTimer);
  state.heartbeatTimer = null;
}

function handleFrame(frame) {
  if (!frame || typeof frame.type !== "string") return;
  switch (frame.type) {
    case "welcome":
      onWelcome(frame);
      break;
    case "roster":
      onRoster(Array.isArray(frame.peers) ? frame.peers : []);
      break;
    case "signal":
      onSignal(frame);
      break;
    case "chat":
      onChat(frame);
      break;
    case "caption":
      onCaption(frame);
      break;
    case "ended":
      onEnded(frame.message);
      break;
    case "refused":
      state.refusal = frame.message;
      break;
    case "error":
      status(frame.message);
      break;
    default:
      break; // heartbeat_ack and anything newer
  }
}

function onWelcome(frame) {
  // The room forgot us (we were away longer than the presence timeout): everyone else has
  // dropped their connection to us, so start ours again too.
  if (state.welcomed && !frame.reconnected) {
    for (const peer of state.peers.values()) closePeer(peer.id);
  }
  state.welcomed = true;
  state.attempts = 0;
  state.iceServers = Array.isArray(frame.ice_servers) ? frame.ice_servers : [];
  startHeartbeat(frame.heartbeat_seconds);
  send({ type: "media", audio: state.audio, video: state.video });
  setChatEnabled(true);
  updateCaptionsButton();
  notice("");
  describeRoom();
}

function onRoster(peers) {
  state.roster = peers;
  const present = new Set();
  const news = [];
  for (const info of peers) {
    if (!info || typeof info.peer_id !== "string") continue;
    if (info.peer_id === state.peerId) {
      updateSelfTile(info);
      continue;
    }
    present.add(info.peer_id);
    let peer = state.peers.get(info.peer_id);
    if (!peer) {
      peer = addPeer(info);
      if (state.rosterSeen && info.name) news.push(`${info.name} joined the call.`);
    }
    peer.info = info;
    updateTile(peer);
  }
  for (const peer of [...state.peers.values()]) {
    if (present.has(peer.id)) continue;
    if (peer.info && peer.info.name) news.push(`${peer.info.name} left the call.`);
    closePeer(peer.id);
  }
  state.rosterSeen = true;
  renderPeople();
  describeRoom(news);
}

// The status line is a polite live region: who came or went is said first, then the room.
function describeRoom(news = []) {
  if (state.finished || !state.welcomed) return;
  const others = state.peers.size;
  const room =
    others === 0
      ? "You are in the call. Nobody else is here yet."
      : `You are in the call with ${others} other ${others === 1 ? "person" : "people"}.`;
  status([...news, room].join(" "));
}

// -- Peer connections ------------------------------------------------------------------------

// Each connection is "perfect negotiation" (W3C WebRTC §10.6): both sides may offer at any
// time; when offers cross, the polite side (the larger peer id) gives way. To begin with,
// though, only the impolite side offers and the polite side adds its camera and microphone
// while answering: Chromium can lose the polite side's ICE candidates when its own first
// offer is rolled back half made, and then the call never connects.
//
// Every signal names the sender's connection (`instance`) and, once known, the receiver's
// (`for`). A tab that reloaded keeps its peer id but starts new connections; its fresh offer
// (`for` unknown) under a new instance tells the other side to start again too, and signals
// meant for a connection that no longer exists are dropped.

function addPeer(info) {
  const peer = {
    id: info.peer_id,
    info,
    polite: state.peerId > info.peer_id,
    tile: makeTile(info.peer_id),
    frames: 0,
    closed: false,
    queue: Promise.resolve(),
  };
  byId("tiles").append(peer.tile.figure);
  countFrames(peer);
  openConnection(peer);
  state.peers.set(peer.id, peer);
  const waiting = state.waiting.get(peer.id);
  state.waiting.delete(peer.id);
  for (const frame of waiting ? waiting.frames : []) queueSignal(peer, frame);
  return peer;
}

function openConnection(peer) {
  const pc = new RTCPeerConnection({ iceServers: state.iceServers });
  peer.pc = pc;
  peer.instance = randomId();
  peer.remoteInstance = null;
  peer.makingOffer = false;
  peer.ignoreOffer = false;
  peer.remoteStream = null;
  peer.sending = false;
  clearTimeout(peer.startTimer);
  if (!peer.polite) {
    startSending(peer);
  } else {
    // Should the other side's offer never come, offer from here after all.
    peer.startTimer = setTimeout(() => {
      if (pc === peer.pc && !peer.closed) startSending(peer);
    }, 3000);
  }
  pc.onnegotiationneeded = async () => {
    if (pc !== peer.pc) return;
    try {
      peer.makingOffer = true;
      await pc.setLocalDescription();
      sendSignal(peer, pc.localDescription.type, { sdp: pc.localDescription.sdp });
    } catch (error) {
      console.warn("Could not offer to", peer.id, error);
    } finally {
      peer.makingOffer = false;
    }
  };
  pc.onicecandidate = ({ candidate }) => {
    if (candidate && pc === peer.pc) sendSignal(peer, "candidate", candidate.toJSON());
  };
  pc.ontrack = ({ track, streams }) => {
    if (pc === peer.pc) attachRemote(peer, track, streams);
  };
  pc.onconnectionstatechange = () => {
    if (pc !== peer.pc) return;
    // A network change broke the path; gather new candidates without starting over.
    if (pc.connectionState === "failed") pc.restartIce();
    updateTile(peer);
  };
}

function startSending(peer) {
  if (peer.sending) return;
  peer.sending = true;
  clearTimeout(peer.startTimer);
  const stream = state.localStream;
  for (const kind of ["audio", "video"]) {
    const tracks = stream ? stream.getTracks().filter((track) => track.kind === kind) : [];
    for (const track of tracks) peer.pc.addTrack(track, stream);
    // Without a camera or microphone, still ask to receive the other side's.
    if (!tracks.length && !peer.polite) peer.pc.addTransceiver(kind, { direction: "recvonly" });
  }
}

function sendSignal(peer, kind, payload) {
  send({
    type: "signal",
    to: peer.id,
    kind,
    payload: { ...payload, instance: peer.instance, for: peer.remoteInstance },
  });
}

function onSignal(frame) {
  if (typeof frame.from !== "string" || !frame.payload || typeof frame.payload !== "object") {
    return;
  }
  const peer = state.peers.get(frame.from);
  if (peer) {
    queueSignal(peer, frame);
    return;
  }
  // The sender's roster reached it before ours reached us: hold on until ours names it.
  const waiting = state.waiting.get(frame.from) || { since: Date.now(), frames: [] };
  if (Date.now() - waiting.since > 10000) waiting.frames = [];
  waiting.frames.push(frame);
  state.waiting.set(frame.from, waiting);
}

function queueSignal(peer, frame) {
  // One signal at a time per peer, in arrival order.
  peer.queue = peer.queue.then(() => handleSignal(peer, frame)).catch((error) => {
    console.warn("Signalling with", peer.id, "failed:", error);
  });
}

async function handleSignal(peer, frame) {
  if (peer.closed) return;
  const { kind, payload } = frame;
  if (payload.for && payload.for !== peer.instance) return; // for a connection we closed
  if (peer.remoteInstance && payload.instance !== peer.remoteInstance) {
    if (payload.for) {
      peer.remoteInstance = payload.instance;
    } else if (kind === "offer") {
      peer.pc.close();
      openConnection(peer);
    } else {
      return;
    }
  }
  if (!peer.remoteInstance) peer.remoteInstance = payload.instance || null;
  const pc = peer.pc;

  if (kind === "offer" || kind === "answer") {
    if (typeof payload.sdp !== "string") return;
    const collision = kind === "offer" && (peer.makingOffer || pc.signalingState !== "stable");
    peer.ignoreOffer = !peer.polite && collision;
    if (peer.ignoreOffer) return;
    await pc.setRemoteDescription({ type: kind, sdp: payload.sdp });
    if (kind === "offer") {
      // The polite side's camera and microphone join the offered transceivers.
      startSending(peer);
      await pc.setLocalDescription();
      sendSignal(peer, pc.localDescription.type, { sdp: pc.localDescription.sdp });
    }
  } else if (kind === "candidate") {
    try {
      await pc.addIceCandidate({
        candidate: payload.candidate,
        sdpMid: payload.sdpMid,
        sdpMLineIndex: payload.sdpMLineIndex,
        usernameFragment: payload.usernameFragment,
      });
    } catch (error) {
      if (!peer.ignoreOffer) throw error;
    }
  }
}

function attachRemote(peer, track, streams) {
  let stream = streams && streams[0];
  if (!stream) {
    peer.remoteStream = peer.remoteStream || new MediaStream();
    peer.remoteStream.addTrack(track);
    stream = peer.remoteStream;
  }
  const video = peer.tile.video;
  if (video.srcObject !== stream) video.srcObject = stream;
  play(peer.tile);
}

function play(tile) {
  tile.video.play().catch((error) => {
    if (error.name !== "NotAllowedError") return;
    // The browser wants a click before it plays sound: show the picture now, sound on click.
    tile.video.muted = true;
    tile.video.play().catch(() => {});
    tile.sound.hidden = false;
  });
}

function countFrames(peer) {
  const video = peer.tile.video;
  if (typeof video.requestVideoFrameCallback !== "function") return;
  const counted = () => {
    peer.frames += 1;
    if (!peer.closed) video.requestVideoFrameCallback(counted);
  };
  video.requestVideoFrameCallback(counted);
}

function closePeer(id) {
  const peer = state.peers.get(id);
  if (!peer) return;
  dropPendingCaption(id);
  peer.closed = true;
  clearTimeout(peer.startTimer);
  peer.pc.close();
  peer.tile.video.srcObject = null;
  peer.tile.figure.remove();
  state.peers.delete(id);
}

// -- Tiles and the participant list ----------------------------------------------------------

function makeTile(id) {
  const figure = byId("tile-template").content.firstElementChild.cloneNode(true);
  figure.dataset.peer = id;
  const tile = {
    figure,
    video: figure.querySelector(".tile__video"),
    off: figure.querySelector(".tile__off"),
    initials: figure.querySelector(".tile__initials"),
    name: figure.querySelector(".tile__name"),
    muted: figure.querySelector(".tile__muted"),
    state: figure.querySelector(".tile__state"),
    sound: figure.querySelector(".tile__sound"),
  };
  tile.sound.addEventListener("click", () => {
    tile.video.muted = false;
    tile.video.play().catch(() => {});
    tile.sound.hidden = true;
  });
  return tile;
}

function nameOf(userId) {
  const known = config.expected.find((person) => person.user_id === userId);
  return known ? known.name : "";
}

function updateSelfTile(info) {
  const tile = state.selfTile;
  if (!tile) return;
  const name = (info && info.name) || nameOf(config.userId) || "You";
  tile.name.textContent = `${name} (you)`;
  tile.initials.textContent = initials(name);
  tile.muted.hidden = state.audio;
  tile.off.hidden = state.video;
  tile.video.hidden = !state.video;
}

const CONNECTION_WORDS = {
  new: "connecting…",
  connecting: "connecting…",
  disconnected: "connection interrupted…",
  failed: "connection failed; retrying…",
};

function updateTile(peer) {
  const { tile, info } = peer;
  const name = info.name || nameOf(info.user_id) || "Someone";
  tile.figure.dataset.user = String(info.user_id);
  tile.name.textContent = info.role === "tutor" ? `${name} (tutor)` : name;
  tile.initials.textContent = initials(name);
  tile.muted.hidden = info.audio !== false;
  tile.off.hidden = info.video !== false;
  tile.video.classList.toggle("tile__video--off", info.video === false);
  const words = CONNECTION_WORDS[peer.pc.connectionState];
  tile.state.textContent = words ? ` — ${words}` : "";
}

function renderPeople() {
  const list = byId("people");
  const inCall = new Map(); // user id -> roster entries
  for (const info of state.roster) {
    if (!inCall.has(info.user_id)) inCall.set(info.user_id, []);
    inCall.get(info.user_id).push(info);
  }
  const people = [...config.expected];
  for (const [userId, entries] of inCall) {
    if (!people.some((person) => person.user_id === userId)) {
      people.push({ user_id: userId, name: entries[0].name, role: entries[0].role });
    }
  }
  list.replaceChildren(
    ...people.map((person) => {
      const entries = inCall.get(person.user_id) || [];
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.className = "people__name";
      name.textContent =
        person.name +
        (person.user_id === config.userId ? " (you)" : "") +
        (person.role === "tutor" ? " · tutor" : "");
      item.append(name);
      // Who is in the call is known once we are in it too.
      if (state.welcomed) {
        item.className = entries.length ? "people__in" : "people__away";
        const where = document.createElement("span");
        where.className = "people__state";
        const parts = entries.length ? ["in the call"] : ["not in the call"];
        if (entries.length && !entries.some((e) => e.audio)) parts.push("muted");
        if (entries.length && !entries.some((e) => e.video)) parts.push("camera off");
        where.textContent = parts.join(", ");
        item.append(where);
      }
      return item;
    })
  );
}

// -- Chat ------------------------------------------------------------------------------------

function setChatEnabled(enabled) {
  byId("chat-text").disabled = !enabled;
  byId("chat-send").disabled = !enabled;
}

// "3:05 PM" in the account's time zone (Settings), not the browser's: the pages show every
// time that way. A zone the browser does not know falls back to the browser's own.
function chatTime(at) {
  const shape = { hour: "numeric", minute: "2-digit" };
  try {
    return at.toLocaleTimeString([], { ...shape, timeZone: config.timeZone || undefined });
  } catch {
    return at.toLocaleTimeString([], shape);
  }
}

function onChat(frame) {
  if (typeof frame.text !== "string") return;
  const log = byId("chat-log");
  const item = document.createElement("li");
  item.className = "chat__message";
  const who = document.createElement("span");
  who.className = "chat__name";
  who.textContent = (frame.name || "Someone") + (frame.from === state.peerId ? " (you)" : "");
  const at = new Date(frame.at);
  const time = document.createElement("time");
  time.className = "chat__time";
  if (!Number.isNaN(at.getTime())) {
    time.dateTime = at.toISOString();
    time.textContent = chatTime(at);
  }
  const text = document.createElement("p");
  text.className = "chat__text";
  text.textContent = frame.text;
  item.append(who, " ", time, text);
  log.append(item);
  log.scrollTop = log.scrollHeight;
}

function setUpChat() {
  const form = byId("chat-form");
  const input = byId("chat-text");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (send({ type: "chat", text })) {
      input.value = "";
    } else {
      status("Not connected right now; your message was not sent.");
    }
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

// -- Live captions ---------------------------------------------------------------------------

// Each participant may caption their own speech: the browser's speech recognition (the Web
// Speech API) hears it, and each finished phrase (and, at most once a second, the phrase being
// said) goes to the room as a caption frame. Everyone's captions show in the captions region,
// each line led by its speaker's name. Nothing is stored, here or on the server.
const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition || null;
const CAPTION_LINES = 8;
const INTERIM_EVERY_MS = 1000;
const RESTART_AFTER_MS = 300;
// The recognizer's errors that end captioning, and how to say why. "no-speech" and "aborted"
// are not among them: after a silence the recognizer ends and is started again.
const RECOGNITION_FAILURES = {
  "not-allowed": "this browser did not allow speech recognition on this page",
  "service-not-allowed": "this browser's speech recognition is turned off or not allowed",
  network: "this browser's speech recognition service could not be reached",
  "audio-capture": "no microphone could be used for speech recognition",
  "language-not-supported": "this browser cannot recognize speech in this page's language",
};

const captions = {
  recognizer: null,
  on: false,
  unavailable: "",
  lastInterimAt: 0,
  pending: new Map(), // peer id -> the line of what they are saying now (not yet final)
};

function updateCaptionsButton() {
  const button = byId("toggle-captions");
  if (captions.unavailable) return;
  button.disabled = !state.selfTile || state.finished;
  button.setAttribute("aria-pressed", String(captions.on));
}

// The button stays focusable (aria-disabled, not disabled), so that keyboard and screen
// reader users reach it and hear why captions cannot be made here.
function captionsUnavailable(reason) {
  captions.unavailable = reason;
  const button = byId("toggle-captions");
  button.disabled = false;
  button.textContent = "Captions unavailable";
  button.setAttribute("aria-disabled", "true");
  button.removeAttribute("aria-pressed");
  button.setAttribute("aria-describedby", "captions-reason captions-about");
  byId("captions-reason").textContent =
    `Captions are unavailable in this browser: ${reason}. ` +
    "You still see the captions others make, and the chat works as always.";
}

function startCaptions() {
  let recognizer;
  try {
    recognizer = new Recognition();
    recognizer.continuous = true;
    recognizer.interimResults = true;
    recognizer.lang = document.documentElement.lang || navigator.language || "en";
  } catch {
    captionsUnavailable("speech recognition could not be started");
    return;
  }
  recognizer.addEventListener("result", (event) => {
    if (recognizer === captions.recognizer) onRecognized(event);
  });
  recognizer.addEventListener("error", (event) => {
    if (recognizer !== captions.recognizer) return;
    const why = RECOGNITION_FAILURES[event.error];
    if (!why) return;
    stopCaptions();
    captionsUnavailable(why);
  });
  recognizer.addEventListener("end", () => {
    if (recognizer !== captions.recognizer || !captions.on) return;
    setTimeout(() => {
      if (recognizer !== captions.recognizer || !captions.on) return;
      try {
        recognizer.start();
      } catch {
        // already started again
      }
    }, RESTART_AFTER_MS);
  });
  captions.recognizer = recognizer;
  captions.on = true;
  try {
    recognizer.start();
  } catch {
    stopCaptions();
    captionsUnavailable("speech recognition could not be started");
    return;
  }
  updateCaptionsButton();
}

function stopCaptions() {
  const recognizer = captions.recognizer;
  captions.recognizer = null;
  captions.on = false;
  if (recognizer) {
    try {
      recognizer.abort();
    } catch {
      // it had stopped
    }
  }
  updateCaptionsButton();
}

function toggleCaptions() {
  if (captions.unavailable || state.finished || !state.selfTile) return;
  if (captions.on) stopCaptions();
  else startCaptions();
}

function onRecognized(event) {
  // Muted means nobody hears you: then nothing is captioned either.
  const hasAudio = Boolean(state.localStream && state.localStream.getAudioTracks().length);
  if (hasAudio && !state.audio) return;
  let finished = "";
  let saying = "";
  const results = event.results || [];
  for (let i = event.resultIndex || 0; i < results.length; i += 1) {
    const result = results[i];
    const text = result && result[0] ? String(result[0].transcript || "") : "";
    if (result && result.isFinal) finished += text;
    else saying += text;
  }
  finished = finished.trim();
  saying = saying.trim();
  const most = config.captionMaxChars || 500;
  if (finished) {
    captions.lastInterimAt = 0;
    send({ type: "caption", text: finished.slice(0, most), final: true });
  } else if (saying && Date.now() - captions.lastInterimAt >= INTERIM_EVERY_MS) {
    captions.lastInterimAt = Date.now();
    send({ type: "caption", text: saying.slice(-most), final: false });
  }
}

function captionLine(frame, pending) {
  const line = document.createElement("li");
  line.className = pending ? "captions__line captions__line--pending" : "captions__line";
  line.dataset.peer = frame.from;
  const who = document.createElement("span");
  who.className = "captions__name";
  who.textContent = (frame.name || "Someone") + (frame.from === state.peerId ? " (you)" : "");
  const said = document.createElement("span");
  said.className = pending ? "captions__text captions__pending" : "captions__text";
  said.textContent = pending ? `${frame.text}…` : frame.text;
  line.append(who, ": ", said);
  // What is still being said shows, but is not announced: the finished line is, once.
  if (pending) line.setAttribute("aria-hidden", "true");
  return line;
}

function onCaption(frame) {
  if (typeof frame.text !== "string" || typeof frame.from !== "string") return;
  const log = byId("captions-log");
  const line = captionLine(frame, !frame.final);
  const open = captions.pending.get(frame.from);
  if (open) open.replaceWith(line);
  else log.append(line);
  if (frame.final) captions.pending.delete(frame.from);
  else captions.pending.set(frame.from, line);
  while (log.children.length > CAPTION_LINES) {
    const oldest = log.firstElementChild;
    if (captions.pending.get(oldest.dataset.peer) === oldest) captions.pending.delete(oldest.dataset.peer);
    oldest.remove();
  }
}

function dropPendingCaption(peerId) {
  const open = captions.pending.get(peerId);
  if (open) open.remove();
  captions.pending.delete(peerId);
}

function setUpCaptions() {
  const button = byId("toggle-captions");
  button.addEventListener("click", toggleCaptions);
  if (!Recognition) {
    captionsUnavailable("it cannot recognize speech");
  }
}

// -- Leaving -----------------------------------------------------------------------------------

function finish() {
  state.finished = true;
  clearTimeout(state.reconnectTimer);
  stopHeartbeat();
  for (const peer of [...state.peers.values()]) closePeer(peer.id);
  if (state.localStream) {
    for (const track of state.localStream.getTracks()) track.stop();
  }
  setChatEnabled(false);
  stopCaptions();
  updateControls();
  byId("hangup-button").disabled = true;
}

async function leaveCall() {
  if (state.finished) return;
  closeMenu();
  status("Leaving the call…");
  const socket = state.socket;
  finish();
  if (socket && socket.readyState === WebSocket.OPEN) {
    // Wait for the server to close: then the seat is given up before the next page asks.
    const closed = new Promise((resolve) => socket.addEventListener("close", resolve, { once: true }));
    socket.send(JSON.stringify({ type: "leave" }));
    await Promise.race([closed, delay(2000)]);
  } else if (socket) {
    socket.close(1000);
  }
  location.assign(config.detailsUrl);
}

function onEnded(message) {
  state.ended = true;
  if (state.completing) {
    // This tab completed the session; its own answer decides where to go.
    state.finished = true;
    return;
  }
  finish();
  status("The call has ended.");
  notice(`${message || "The call has ended."} Taking you to the session page…`);
  setTimeout(() => location.assign(config.detailsUrl), ENDED_NAVIGATION_DELAY_MS);
}

// -- The hang-up menu ------------------------------------------------------------------------

function openMenu() {
  byId("hangup-menu").hidden = false;
  byId("hangup-button").setAttribute("aria-expanded", "true");
  byId("hangup-menu").querySelector("button").focus();
}

function closeMenu() {
  byId("hangup-menu").hidden = true;
  byId("hangup-button").setAttribute("aria-expanded", "false");
}

function setUpHangup() {
  const button = byId("hangup-button");
  const menu = byId("hangup-menu");
  button.addEventListener("click", () => (menu.hidden ? openMenu() : closeMenu()));
  menu.addEventListener("click", (event) => {
    const choice = event.target.closest("[data-hangup]");
    if (!choice) return;
    if (choice.dataset.hangup === "leave") leaveCall();
    if (choice.dataset.hangup === "log") openLogDialog();
  });
  byId("hangup").addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !menu.hidden) {
      closeMenu();
      button.focus();
    }
    if ((event.key === "ArrowDown" || event.key === "ArrowUp") && !menu.hidden) {
      const choices = [...menu.querySelectorAll("button")];
      const at = choices.indexOf(document.activeElement);
      const step = event.key === "ArrowDown" ? 1 : -1;
      choices[(at + step + choices.length) % choices.length].focus();
      event.preventDefault();
    }
  });
  document.addEventListener("click", (event) => {
    if (!menu.hidden && !byId("hangup").contains(event.target)) closeMenu();
  });
}

// -- Log time & leave call (the tutor) -------------------------------------------------------

function openLogDialog() {
  closeMenu();
  const dialog = byId("log-dialog");
  if (!dialog || state.finished) return;
  // Closing the pop-up (Escape or "Back to the call") gives focus back to Hang up.
  dialog.addEventListener(
    "close",
    () => {
      if (!state.finished) byId("hangup-button").focus();
    },
    { once: true }
  );
  dialog.showModal();
  const minutes = byId("log-minutes");
  (minutes.value ? dialog.querySelector("textarea") : minutes).focus();
  refreshSuggestion();
}

// The time measured so far: the page was rendered when the tutor came in, and the call has
// gone on since. A time the tutor picked is never overwritten.
async function refreshSuggestion() {
  let body = null;
  try {
    const response = await fetch(config.suggestionUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (response.ok) body = await response.json();
  } catch {
    return; // the pop-up still works; the tutor picks the time
  }
  if (!body || !body.minutes) return;
  const hint = byId("measured-hint");
  hint.textContent = body.hint;
  hint.hidden = false;
  if (!state.minutesPicked) byId("log-minutes").value = String(body.minutes);
}

// Refusals the tutor answers by confirming the time: the form shows the checkbox.
const CONFIRMATION_CODES = new Set(["confirm_over_measured", "confirm_unmeasured"]);
const LATE_LOG_LINK_TEXT = "Ask Support to log it, with the time and recap you typed";

function showLogError(message, fields, { code = "", lateLogUrl = "" } = {}) {
  const box = byId("log-error");
  box.textContent = message;
  box.hidden = !message;
  const confirming = CONFIRMATION_CODES.has(code);
  box.classList.toggle("alert--warning", confirming);
  box.classList.toggle("alert--error", !confirming);
  if (confirming) byId("confirm-time").hidden = false;
  if (lateLogUrl) {
    // Logging has closed: hand the typed time and recap over to Support in one step.
    const link = document.createElement("a");
    link.className = "alert__action";
    link.id = "late-log-link";
    link.href = lateLogUrl;
    link.textContent = LATE_LOG_LINK_TEXT;
    box.append(" ", link);
  }
  for (const field of byId("log-form").querySelectorAll("[aria-invalid]")) {
    field.removeAttribute("aria-invalid");
  }
  for (const name of fields || []) {
    const field = byId("log-form").elements.namedItem(name);
    if (field) field.setAttribute("aria-invalid", "true");
  }
  if (message) box.focus();
}

async function submitLog(event) {
  event.preventDefault();
  if (state.completing) return;
  const form = byId("log-form");
  const submit = byId("log-submit");
  state.completing = true;
  submit.disabled = true;
  submit.setAttribute("aria-busy", "true");
  let response = null;
  let body = null;
  try {
    response = await fetch(config.completeUrl, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: {
        Accept: "application/json",
        "X-CSRFToken": form.elements.namedItem("csrfmiddlewaretoken").value,
      },
      credentials: "same-origin",
    });
    body = await response.json().catch(() => null);
  } catch {
    response = null;
  }
  submit.removeAttribute("aria-busy");
  if (response && response.ok && body && body.redirect) {
    const socket = state.socket;
    finish();
    // The server is ending the call for everyone; this tab goes first.
    if (socket && socket.readyState === WebSocket.OPEN) socket.close(1000);
    location.assign(body.redirect);
    return;
  }
  state.completing = false;
  submit.disabled = false;
  if (state.ended) {
    // The call ended (the session was completed) even though the answer got lost.
    location.assign(config.detailsUrl);
    return;
  }
  // Refusals are problem+json, as the API's are: `detail` says why, `fields` what to fix.
  if (body && body.detail) {
    showLogError(body.detail, body.fields, { code: body.code, lateLogUrl: body.late_log_url });
    if (body.redirect) {
      finish();
      setTimeout(() => location.assign(body.redirect), ENDED_NAVIGATION_DELAY_MS);
    }
  } else if (response === null) {
    showLogError("Studyhall could not be reached. Check your connection and try again; what you typed is kept.");
  } else if (response.status === 403) {
    showLogError("This page has expired. Copy your recap, reload the page and try again.");
  } else {
    showLogError("Something went wrong on our side; try again in a moment. What you typed is kept.");
  }
}

function setUpLogDialog() {
  const dialog = byId("log-dialog");
  if (!dialog) return;
  byId("log-form").addEventListener("submit", submitLog);
  byId("log-minutes").addEventListener("change", () => {
    state.minutesPicked = true;
  });
  byId("log-cancel").addEventListener("click", () => dialog.close());
}

// -- For tests: a read-only look at the call --------------------------------------------------

window.studyhallClassroom = Object.freeze({
  get peerId() {
    return state.peerId;
  },
  get connected() {
    return Boolean(state.socket && state.socket.readyState === WebSocket.OPEN && state.welcomed);
  },
  get peers() {
    return Object.fromEntries(
      [...state.peers.values()].map((peer) => [
        peer.id,
        {
          userId: peer.info.user_id,
          name: peer.info.name,
          connectionState: peer.pc.connectionState,
          frames: peer.frames,
          videoWidth: peer.tile.video.videoWidth,
        },
      ])
    );
  },
  get captioning() {
    return captions.on;
  },
  receivedFrames(peerId) {
    if (peerId !== undefined) return state.peers.get(peerId)?.frames ?? 0;
    let total = 0;
    for (const peer of state.peers.values()) total += peer.frames;
    return total;
  },
});

// -- Start -----------------------------------------------------------------------------------

async function start() {
  setUpHangup();
  setUpChat();
  setUpLogDialog();
  setUpCaptions();
  byId("toggle-audio").addEventListener("click", () => toggle("audio"));
  byId("toggle-video").addEventListener("click", () => toggle("video"));
  byId("media-choice").addEventListener("click", (event) => {
    const choice = event.target.closest("[data-join]");
    if (!choice) return;
    if (choice.dataset.join === "retry") startMedia({ audio: true, video: true });
    if (choice.dataset.join === "audio") startMedia({ audio: true, video: false });
    if (choice.dataset.join === "none") join(null);
  });
  window.addEventListener("online", () => {
    if (state.reconnectTimer) connect();
    else send({ type: "heartbeat" }); // is the socket still alive? the answer will say
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") send({ type: "heartbeat" });
  });
  renderPeople();
  state.peerId = await claimPeerId();
  await startMedia({ audio: true, video: true });
}

start();
