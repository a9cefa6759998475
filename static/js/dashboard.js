// Entry point of the dashboard (/): launch form, live progress, charts, runs table.
//
// Every run shown is the server's view of it (GET /api/runs, `run` messages, POST answers),
// carried forward by its frames while it is live (run_view.js).

import { api } from "./api.js";
import { RunCharts } from "./charts/run_charts.js";
import { $ } from "./dom.js";
import { LaunchForm } from "./form.js";
import { colorFor, runLabel } from "./format.js";
import { LiveList } from "./live.js";
import { loadRun, pageStream } from "./page.js";
import { RunsTable } from "./runs_table.js";
import { advance } from "./run_view.js";

const stream = pageStream();

const charts = RunCharts.ofPage();
const live = new LiveList($("#live-list"), $("#live-empty"));
const runsStatus = $("#runs-status");
const announcer = $("#announce");

// Runs whose curves are in the charts; a token per showing so a late /metrics answer for a
// run hidden meanwhile is dropped.
const shown = new Map();

const table = new RunsTable($("#runs-table"), {
  emptyNote: $("#runs-empty"),
  onToggle: (id, on) => (on ? show(id) : hide(id)),
  onAction: act,
});

new LaunchForm($("#launch-form"), {
  status: $("#form-status"),
  onCreated: (runs) => runs.forEach((run) => seeRun(run, { autoShow: true })),
});

// When the page last learnt something about a run from a notice (or deleted it), so a runs list
// fetched before that cannot undo it.
const heardAt = new Map(); // id → performance.now()

function seeRun(run, { autoShow = false } = {}) {
  heardAt.set(String(run.id), performance.now());
  const before = table.get(run.id);
  if (before && before.status !== run.status && announcer) {
    announcer.textContent = `Run #${run.id} ${runLabel(run)}: ${run.status}${run.reason ? ` (${run.reason})` : ""}`;
  }
  const isNew = table.upsert(run);
  live.update(run);
  if (charts.has(run.id)) charts.setRunInfo(run.id, { label: runLabel(run) });
  if ((isNew || autoShow) && run.live && !shown.has(String(run.id))) show(run.id);
}

async function show(id) {
  const key = String(id);
  if (shown.has(key)) return;
  const run = table.get(key);
  if (!run) return;
  const token = {};
  shown.set(key, token);
  table.setChecked(key, true);
  renderCompareButton();
  charts.add(key, { label: runLabel(run), color: colorFor(key) });
  try {
    await loadRun(stream, run, (chunk) => onChunk(key, chunk), () => shown.get(key) === token);
  } catch (err) {
    say(`Could not load the curves of run #${key}: ${err.message}`, true);
    hide(key);
  }
}

function hide(id) {
  const key = String(id);
  shown.delete(key);
  table.setChecked(key, false);
  charts.remove(key);
  stream.unsubscribe(key);
  renderCompareButton();
}

// "Compare ticked runs" opens /compare?runs=… for the runs ticked (shown in the charts).
const compareButton = $("#compare-ticked");
function renderCompareButton() {
  const n = shown.size;
  compareButton.disabled = n === 0;
  compareButton.textContent = n ? `Compare ticked runs (${n})` : "Compare ticked runs";
}
compareButton.addEventListener("click", () => {
  const ids = [...shown.keys()].sort((a, b) => Number(a) - Number(b));
  if (ids.length) location.assign(`/compare?runs=${ids.join(",")}`);
});

function onChunk(id, chunk) {
  if (!shown.has(String(id))) return;
  charts.ingest(id, chunk);
  table.setLastSeq(id, chunk.last_seq);
  const run = table.get(id);
  if (!run) return;
  const next = advance(run, chunk);
  table.upsert(next, { deferSort: true });
  live.update(next);
}

function forget(id) {
  heardAt.set(String(id), performance.now());
  hide(id);
  table.remove(id);
  live.remove(id);
}

stream.on("chunk", onChunk);
stream.on("run", (run) => seeRun(run));
stream.on("run_deleted", forget);
// `run` notices describe changes made after the socket's hello, so the list is fetched again once
// the hello arrived (on the first connection too: a run created and ended between the first
// fetch and the socket opening would otherwise never show), and after every reconnect.
stream.on("hello", () => refresh());
// The whole list, which the server sends instead of the changes a slow socket missed.
stream.on("runs", (msg) => applyRuns(msg.runs));

async function act(action, id) {
  try {
    if (action === "cancel") {
      seeRun(await api.cancel(id));
      say(`Run #${id}: cancel requested.`);
    } else if (action === "delete") {
      await api.remove(id);
      forget(id);
      say(`Run #${id} deleted.`);
    } else if (action === "rerun") {
      const run = await api.rerun(id);
      seeRun(run, { autoShow: true });
      say(`Run #${id} queued again as #${run.id}.`);
    }
  } catch (err) {
    say(`Run #${id}: ${err.message}`, true);
  }
}

function say(text, isError = false) {
  runsStatus.textContent = text;
  runsStatus.classList.toggle("error", isError);
}

// The whole runs list: a snapshot from `asOf`, so what notices said after that wins. A run
// created, changed or deleted while the list was on its way is neither dropped, set back nor
// brought back; and a run never goes back from ended to live.
function applyRuns(fetched, asOf = performance.now()) {
  const newer = (id) => (heardAt.get(String(id)) ?? -Infinity) > asOf;
  const runs = [];
  for (const run of fetched) {
    const known = table.get(run.id);
    if (newer(run.id)) {
      if (known) runs.push(known); // else deleted since
    } else {
      runs.push(known && !known.live && run.live ? known : run);
    }
  }
  const listed = new Set(runs.map((run) => String(run.id)));
  for (const run of table.all()) if (!listed.has(String(run.id)) && newer(run.id)) runs.push(run);
  table.setRuns(runs);
  for (const run of runs) {
    live.update(run);
    if (run.live && !shown.has(String(run.id))) show(run.id);
  }
  for (const id of [...live.rows.keys()]) if (!table.get(id)) live.remove(id);
  for (const id of [...shown.keys()]) if (!table.get(id)) hide(id);
}

async function refresh() {
  try {
    const asOf = performance.now();
    applyRuns(await api.listRuns(), asOf);
  } catch (err) {
    say(`Could not load the runs: ${err.message}`, true);
  }
}

// For debugging and the browser tests (e.g. dropping the socket to test reconnecting).
window.normlab = { stream, charts, table, live };

stream.connect();
refresh();
