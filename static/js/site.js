// On every page: the footer says which executor trains the runs (GET /api/status: "executor",
// and "scheduler" / "workers" when present), how many runs it takes at once and the two queues
// (runs launched on their own, and study runs, each with its own limit). A page with a socket
// looks again when runs change (followRuns); others now and then.

import { api } from "./api.js";
import { setText } from "./dom.js";

const DESCRIBE = {
  thread: "a background thread of this server",
  process: "local child processes",
  dask: "a Dask cluster",
};

async function showStatus() {
  const node = document.getElementById("executor");
  const wrap = document.getElementById("server-status");
  if (!node || !wrap) return;
  try {
    const status = await api.status();
    const executor = String(status.executor ?? "?");
    const parts = [`executor: ${executor}${DESCRIBE[executor] ? ` (${DESCRIBE[executor]})` : ""}`];
    if (status.scheduler) parts.push(`scheduler ${status.scheduler}`);
    if (status.workers !== undefined && status.workers !== null) parts.push(`workers: ${status.workers}`);
    if (Number.isFinite(status.queue_length)) {
      parts.push(`queue: ${status.queue_length}${Number.isFinite(status.queue_limit) ? ` of at most ${status.queue_limit}` : ""}`);
    }
    if (Number.isFinite(status.study_queue_length)) {
      const limit = Number.isFinite(status.study_queue_limit) ? ` of at most ${status.study_queue_limit}` : "";
      parts.push(`study runs queued: ${status.study_queue_length}${limit}`);
    }
    setText(node, parts.join(" · "));
    wrap.dataset.executor = executor;
    if (status.scheduler) wrap.dataset.scheduler = String(status.scheduler);
    if (status.workers !== undefined && status.workers !== null) wrap.dataset.workers = String(status.workers);
  } catch (err) {
    setText(node, `server status unavailable (${err.message})`);
  }
}

const FOLLOW_GAP_MS = 1000;
const POLL_MS = 15000;
let pending = null;
let followed = false;

// The queues change when runs are created, start or end, which the page's socket says: look again
// then (at most once a second), so the counts are never more than a second old.
export function followRuns(stream) {
  followed = true;
  const soon = () => {
    if (!pending) pending = setTimeout(() => { pending = null; showStatus(); }, FOLLOW_GAP_MS);
  };
  stream.on("run", soon);
  stream.on("run_deleted", soon);
  stream.on("runs", soon);
  stream.on("hello", soon);
}

showStatus();
// A page without a socket: look again now and then while it is visible.
setInterval(() => {
  if (document.visibilityState === "visible" && !followed) showStatus();
}, POLL_MS);
