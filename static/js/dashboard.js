// Entry point of the dashboard (/): launch form, live progress, charts, runs table.
//
// Every run shown is the server's view of it (GET /api/runs, `run` messages, POST answers),
// carried forward by its frames while it is live (run_view.js). The table shows one page of the
// runs the filters choose (runs_list.js); the live panel shows what trains now and the runs
// launched on their own that wait, whatever the table's filters.

import { api } from "./api.js";
import { RunCharts } from "./charts/run_charts.js";
import { $ } from "./dom.js";
import { LaunchForm } from "./form.js";
import { colorFor, runLabel } from "./format.js";
import { LiveList } from "./live.js";
import { loadRun, pageStream } from "./page.js";
import { RunsFilters } from "./runs_filters.js";
import { RunsList } from "./runs_list.js";
import { RunsTable } from "./runs_table.js";
import { advance } from "./run_view.js";

const LIVE_PAGE = 50;

const stream = pageStream();
const charts = RunCharts.ofPage();
const live = new LiveList($("#live-list"), $("#live-empty"));
const runsStatus = $("#runs-status");
const announcer = $("#announce");
const studyNames = new Map(); // study id → name (GET /api/studies), for the Study column

// Runs whose curves are in the charts (ticked, on any page), each with a token per showing so a
// late /metrics answer for a run hidden meanwhile is dropped, and the latest view of each.
const shown = new Map();
const views = new Map();

const table = new RunsTable($("#runs-table"), {
  emptyNote: $("#runs-empty"),
  onToggle: (id, on) => (on ? show(id) : hide(id)),
  onAction: act,
  onExpand: (id, open) => list.expand(id, open),
  studyName: (id) => studyNames.get(String(id)) || "",
});
const filters = new RunsFilters($("#runs-filters"), { onChange: () => list.restart() });
const list = new RunsList({
  table, filters, say, summary: $("#runs-summary"),
  pager: { nav: $("#runs-pager"), newer: $("#page-newer"), older: $("#page-older"), text: $("#page-text") },
  onPage: (runs) => runs.forEach(seeLive),
});

const form = new LaunchForm($("#launch-form"), {
  status: $("#form-status"),
  compareStatus: $("#compare-status"),
  onCreated: (runs) => runs.forEach((run) => seeRun(run, { autoShow: true })),
});

const inStudy = (run) => run.study !== null && run.study !== undefined;
const viewOf = (id) => table.get(id) || views.get(String(id)) || (live.rows.get(String(id)) || {}).run || null;

// A run's new view: the table, the live panel, the charts' legend. A run launched on its own that
// starts live goes into the charts (study runs wait to be ticked: a study queues hundreds).
function seeRun(run, { autoShow = false } = {}) {
  const key = String(run.id);
  const before = viewOf(key);
  if (before && before.status !== run.status && announcer) {
    announcer.textContent = `Run #${key} ${runLabel(run)}: ${run.status}${run.reason ? ` (${run.reason})` : ""}`;
  }
  list.seeRun(run);
  seeLive(run);
  if (shown.has(key)) {
    views.set(key, run);
    charts.setRunInfo(key, { label: runLabel(run) });
  }
  if ((autoShow || (!before && run.live && !inStudy(run))) && !shown.has(key)) show(key, run);
}

// The live panel lists running runs and the queued ones launched on their own (a study's queued
// runs are its folded row's progress).
function seeLive(run) {
  if (run.live && inStudy(run) && run.status === "queued" && !live.rows.has(String(run.id))) return;
  live.update(run);
}

async function loadLive() {
  try {
    const [running, queued] = await Promise.all([
      api.listRuns(`status=running&limit=${LIVE_PAGE}`), api.listRuns(`status=queued&study=none&limit=${LIVE_PAGE}`)]);
    const now = [...running.runs, ...queued.runs];
    const ids = new Set(now.map((r) => String(r.id)));
    for (const [id, row] of [...live.rows]) if (row.run.live && !ids.has(id)) live.remove(id);
    for (const run of now) {
      seeLive(run);
      if (!inStudy(run) && !shown.has(String(run.id))) show(run.id, run);
    }
  } catch (err) {
    say(`Could not load the live runs: ${err.message}`, true);
  }
}

async function loadStudies() {
  try {
    const studies = await api.listStudies();
    for (const s of studies) studyNames.set(String(s.id), s.name);
    filters.setStudies(studies);
    table.rerenderStudies();
  } catch {
    /* the filter keeps its two fixed choices; the column says "Study <id>" */
  }
}

async function show(id, run = viewOf(id)) {
  const key = String(id);
  if (shown.has(key) || !run) return;
  const token = {};
  shown.set(key, token);
  views.set(key, run);
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
  views.delete(key);
  table.setChecked(key, false);
  charts.remove(key);
  stream.unsubscribe(key);
  renderCompareButton();
}

// "Compare ticked runs" opens /compare?runs=… for the runs ticked (shown in the charts), on any page.
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
  const key = String(id);
  if (!shown.has(key)) return;
  charts.ingest(key, chunk);
  table.setLastSeq(key, chunk.last_seq);
  const run = viewOf(key);
  if (!run) return;
  const next = advance(run, chunk);
  views.set(key, next);
  table.update(next, { deferSort: true });
  live.update(next);
}

function forget(id) {
  hide(id);
  list.forget(id);
  live.remove(id);
}

stream.on("chunk", onChunk);
stream.on("run", (run) => seeRun(run));
stream.on("run_deleted", forget);
// `run` notices describe changes made after the socket's hello, so the page is fetched again once
// the hello arrived (on the first connection too: a run created and ended between the first
// fetch and the socket opening would otherwise never show), and after every reconnect.
stream.on("hello", () => {
  list.load();
  loadLive();
  loadStudies();
});
// Sent instead of the changes a slow socket missed: this page asks for its own view again.
stream.on("runs", () => {
  list.load();
  loadLive();
});

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
    } else if (action === "edit") {
      const run = viewOf(id);
      if (run) form.apply(run.settings || {}, `Run #${id}`);
      $("#launch-heading").scrollIntoView({ block: "start" });
    }
  } catch (err) {
    say(`Run #${id}: ${err.message}`, true);
  }
}

function say(text, isError = false) {
  runsStatus.textContent = text;
  runsStatus.classList.toggle("error", isError);
}

// For debugging and the browser tests (e.g. dropping the socket to test reconnecting).
window.normlab = { stream, charts, table, live, list, form };

stream.connect();
list.load();
loadLive();
loadStudies();
