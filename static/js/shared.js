// Pieces the pages share: the page's socket with the connection indicator and the dataset-loading
// banner of base.html, and loading a run's curves (stored series from /metrics, then live).

import { api } from "./api.js";
import { isLive, num } from "./format.js";
import { Stream, clipChunk } from "./stream.js";

// The page's live socket (not yet connected), shown in base.html's indicator and data banner.
export function pageStream() {
  const stream = new Stream();
  showConnection(stream, document.querySelector("#connection"));
  showDataProgress(stream, document.querySelector("#data-banner"));
  return stream;
}

export function showConnection(stream, node) {
  if (!node) return;
  const text = { connecting: "connecting…", open: "live", reconnecting: "reconnecting…", closed: "offline — retrying" };
  stream.on("state", (state) => {
    node.dataset.state = state;
    node.textContent = text[state] || state;
  });
}

export function showDataProgress(stream, banner) {
  if (!banner) return;
  let timer = null;
  stream.on("data", (msg) => {
    const fraction = num(msg.fraction);
    const pct = Number.isFinite(fraction) ? ` ${Math.round(fraction * 100)} %` : "";
    banner.textContent = `${msg.dataset || "data"}: ${msg.message || "loading"}${pct}`;
    banner.hidden = false;
    // No message says "done": hide a while after the last one, unless a download is midway.
    clearTimeout(timer);
    const midway = Number.isFinite(fraction) && fraction > 0 && fraction < 1;
    timer = setTimeout(() => (banner.hidden = true), midway ? 60000 : 6000);
  });
}

// Load a run's stored series into `sink(chunk)` and keep it live over the socket if it is not
// over. Returns the /metrics answer. `isWanted()` lets the caller drop an answer that arrives
// after the run was hidden again.
//
// The answer's last_seq is the cursor. While the run is being written, the answer's rows may
// already hold events after it (the store's rows and its last_seq are read separately); those
// are dropped here, because the socket sends every event after the cursor, so keeping them
// would show them twice.
export async function loadRun(stream, run, sink, isWanted = () => true) {
  const answer = await api.metrics(run.id, -1);
  if (!isWanted()) return null;
  const lastSeq = Number.isInteger(answer.last_seq) ? answer.last_seq : maxSeq(answer);
  const stored = clipChunk(answer, lastSeq);
  sink({ ...stored, first_seq: 0, last_seq: lastSeq });
  if (!stored.final && (isLive(run.status) || run.status === undefined)) stream.subscribe(run.id, lastSeq);
  return stored;
}

function maxSeq(stored) {
  let best = -1;
  for (const key of ["batch", "epoch"]) {
    const seqs = stored[key] && stored[key].seq;
    if (seqs && seqs.length) best = Math.max(best, seqs[seqs.length - 1]);
  }
  for (const key of ["start", "final"]) if (stored[key]) best = Math.max(best, stored[key].seq);
  return best;
}
