// What every live page shares: its one socket, shown in base.html's connection indicator,
// dataset-loading banner and footer, and loading a run's curves (the stored series, then live).

import { api } from "./api.js";
import { $ } from "./dom.js";
import { num } from "./format.js";
import { followRuns } from "./site.js";
import { Stream } from "./stream.js";

// The page's live socket (not yet connected), shown in base.html's indicator and data banner.
export function pageStream() {
  const stream = new Stream();
  showConnection(stream, $("#connection"));
  showDataProgress(stream, $("#data-banner"));
  followRuns(stream);
  return stream;
}

function showConnection(stream, node) {
  if (!node) return;
  const text = { connecting: "connecting…", open: "live", reconnecting: "reconnecting…", closed: "offline — retrying" };
  stream.on("state", (state) => {
    node.dataset.state = state;
    node.textContent = text[state] || state;
  });
}

function showDataProgress(stream, banner) {
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

// Load a run's stored series into `sink(chunk)` and keep it live over the socket while the run
// is live: the socket sends every event after the answer's last_seq (the answer is one snapshot,
// nothing in it lies beyond that). Returns the answer. `isWanted()` lets the caller drop an answer
// that arrives after the run was hidden again.
export async function loadRun(stream, run, sink, isWanted = () => true) {
  const answer = await api.metrics(run.id, -1);
  if (!isWanted()) return null;
  sink({ ...answer, first_seq: 0 });
  if (!answer.final && run.live) stream.subscribe(run.id, answer.last_seq);
  return answer;
}
