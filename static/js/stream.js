// The page's one WebSocket to /ws (README, "Live stream").
//
// It remembers, per subscribed run, the last sequence number it has handed on, and asks the
// server for exactly the events after it: on subscribe, after a gap, after a reconnect and when
// the tab becomes visible again. Frames that overlap what we already have (possible right after
// a resubscribe, while older frames are still in flight) are trimmed by sequence number, so
// listeners never see a duplicate or a gap.
//
// Events: state (connecting, open, reconnecting, closed), open, close, visible, and one per message
// type the server sends that a page uses: hello, chunk (a frame's entry for one run), run,
// run_deleted, runs, data, error.

import { debugStats } from "./debug.js";

// Frames a page asks the server for (it allows up to 20 a second). The charts draw each frame as
// it comes, so this is also how often a live chart redraws: 8 a second keep the delay from the
// engine to the chart well under a quarter of a second, while the browser handles and draws less
// than half as often as at 20, CPU it would otherwise take from training on a small machine.
const FRAMES_PER_SECOND = 8;
const MAX_BACKOFF_MS = 10000;
const RESYNC_RETRY_MS = 2000;

export class Stream {
  constructor(url = defaultUrl()) {
    this.url = url;
    this.ws = null;
    this.state = "idle";
    this.attempt = 0;
    this.timer = null;
    this.listeners = new Map();
    this.runs = new Map(); // id (string) → {lastSeq, resyncAt}
    this.connectedOnce = false;
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.onVisible();
    });
    window.addEventListener("online", () => this.reconnectNow());
  }

  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type).delete(fn);
  }

  emit(type, ...args) {
    for (const fn of this.listeners.get(type) || []) {
      try {
        fn(...args);
      } catch (err) {
        console.error(`normlab: ${type} listener failed`, err);
      }
    }
  }

  setState(state) {
    this.state = state;
    this.emit("state", state);
  }

  connect() {
    if (this.ws && (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.setState(this.connectedOnce ? "reconnecting" : "connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.addEventListener("open", () => {
      if (this.ws !== ws) return;
      this.attempt = 0;
      const again = this.connectedOnce;
      this.connectedOnce = true;
      this.setState("open");
      this.send({ type: "rate", max_frames_per_second: FRAMES_PER_SECOND });
      this.sendSubscribe([...this.runs.keys()]);
      this.emit("open", { reconnected: again });
    });
    ws.addEventListener("message", (event) => {
      if (this.ws === ws) this.onMessage(event.data);
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setState("closed");
      this.emit("close");
      this.scheduleReconnect();
    });
    ws.addEventListener("error", () => {
      // "close" follows; reconnecting happens there.
    });
  }

  scheduleReconnect() {
    if (this.timer) return;
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt);
    const delay = base * (0.75 + Math.random() * 0.5);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  reconnectNow() {
    if (this.ws) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.attempt = 0;
    this.connect();
  }

  onVisible() {
    // Background tabs may have been throttled or lost the socket: reconnect at once, or ask
    // again for everything after what we hold (overlaps are trimmed, so this is always safe).
    if (!this.ws) this.reconnectNow();
    else if (this.ws.readyState === WebSocket.OPEN) this.sendSubscribe([...this.runs.keys()]);
    this.emit("visible");
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  sendSubscribe(ids) {
    if (!ids.length) return;
    const runs = {};
    const now = performance.now();
    for (const id of ids) {
      const entry = this.runs.get(String(id));
      if (!entry) continue;
      runs[String(id)] = entry.lastSeq;
      entry.resyncAt = now;
    }
    if (Object.keys(runs).length) this.send({ type: "subscribe", runs });
  }

  // Start streaming a run after `lastSeq` (what the caller already holds; -1 for nothing).
  subscribe(id, lastSeq = -1) {
    const key = String(id);
    const existing = this.runs.get(key);
    if (existing && existing.lastSeq >= lastSeq) {
      this.sendSubscribe([key]);
      return;
    }
    this.runs.set(key, { lastSeq, resyncAt: 0 });
    this.sendSubscribe([key]);
  }

  unsubscribe(id) {
    const key = String(id);
    if (!this.runs.delete(key)) return;
    this.send({ type: "unsubscribe", runs: [Number.isFinite(Number(key)) ? Number(key) : key] });
  }

  isSubscribed(id) {
    return this.runs.has(String(id));
  }

  lastSeq(id) {
    const entry = this.runs.get(String(id));
    return entry ? entry.lastSeq : null;
  }

  onMessage(raw) {
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch {
      console.warn("normlab: unreadable message from /ws");
      return;
    }
    switch (msg.type) {
      case "frame":
        this.onFrame(msg);
        break;
      case "run":
        this.emit("run", msg.run);
        break;
      case "run_deleted":
        this.runs.delete(String(msg.id));
        this.emit("run_deleted", msg.id);
        break;
      case "error":
        console.warn("normlab: server said", msg.error, msg.field || "");
        this.emit("error", msg);
        break;
      case "hello":
      case "runs":
      case "data":
        this.emit(msg.type, msg);
        break;
      default: // pong and rate: answers this page does not wait for
    }
  }

  onFrame(msg) {
    debugStats.frame();
    for (const chunk of msg.runs || []) {
      const key = String(chunk.run);
      const entry = this.runs.get(key);
      if (!entry) continue; // unsubscribed meanwhile
      debugStats.frameEntry(chunk);
      if (chunk.last_seq <= entry.lastSeq) continue; // all of it already held
      if (chunk.first_seq > entry.lastSeq + 1) {
        // A gap: ask again from what we hold (once per RESYNC_RETRY_MS; frames already in
        // flight from before the request are dropped until the answer arrives).
        if (performance.now() - entry.resyncAt > RESYNC_RETRY_MS) this.sendSubscribe([key]);
        continue;
      }
      const fresh = chunk.first_seq <= entry.lastSeq ? trimChunk(chunk, entry.lastSeq) : chunk;
      entry.lastSeq = chunk.last_seq;
      entry.resyncAt = 0;
      if (fresh.batch && fresh.batch.seq) debugStats.points(fresh.batch.seq.length);
      this.emit("chunk", chunk.run, fresh);
    }
  }
}

// Drop the events with seq <= lastSeq from a frame entry (column arrays filtered alike).
function trimChunk(chunk, lastSeq) {
  const out = { ...chunk, first_seq: lastSeq + 1 };
  for (const key of ["batch", "epoch"]) {
    const cols = chunk[key];
    if (!cols || !cols.seq) continue;
    const keep = cols.seq.map((s) => s > lastSeq);
    const trimmed = {};
    for (const [name, values] of Object.entries(cols)) {
      trimmed[name] = Array.isArray(values) ? values.filter((_, i) => keep[i]) : values;
    }
    out[key] = trimmed;
  }
  for (const key of ["start", "final"]) {
    if (chunk[key] && typeof chunk[key].seq === "number" && chunk[key].seq <= lastSeq) delete out[key];
  }
  return out;
}

function defaultUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}
