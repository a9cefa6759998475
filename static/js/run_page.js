// Entry point of a run's own page (/runs/<id>): its full stored curves, then live if it runs.
//
// Loaded as an async module, so it runs as soon as it is here, not after Plotly.js (a deferred
// script, ~1 s to run on a cold cache): the stored curves (/metrics, already requested by the
// page's <link rel="preload">) are asked for and taken in while Plotly loads. Chart drawing is
// held until they are in (no chart is drawn empty first), then the loss per batch draws first and
// each other chart in its own animation frame when it is on screen (charts.js). The first-layer
// weights (a large answer) are fetched when their figure is scrolled to.

import { api } from "./api.js";
import { RunCharts, holdDraws, onceNearView } from "./charts.js";
import { Progress } from "./live.js";
import { colorFor, el, fmtDuration, fmtG, isLive, runLabel, num, setText } from "./format.js";
import { loadRun, pageStream } from "./shared.js";
import {
  ConfusionChart, HistogramChart, LossPartsBatchChart, LossPartsEpochChart, WeightEpochChart, WeightHistory,
} from "./inside.js";
import { WeightGrids } from "./weights.js";

const $ = (selector) => document.querySelector(selector);

let run = JSON.parse($("#run-data").textContent);
const id = String(run.id);

const stream = pageStream();

const charts = RunCharts.ofPage();
charts.add(id, { label: runLabel(run), color: colorFor(id) });

// Inside the run: loss parts, weight norms and sparsity per epoch, histograms, weight images.
const partsBatch = charts.follow(new LossPartsBatchChart($("#parts-batch-chart")));
const partsEpoch = charts.follow(new LossPartsEpochChart($("#parts-epoch-chart")));
const history = new WeightHistory();
history.ensure(id, { label: runLabel(run), color: colorFor(id) });
new WeightEpochChart($("#norm1-chart"), history, "l1");
new WeightEpochChart($("#norm2-chart"), history, "l2");
new WeightEpochChart($("#sparsity-chart"), history, "sparsity");
new HistogramChart($("#hist-W1"), history, "W1");
new HistogramChart($("#hist-W2"), history, "W2");
const confusion = new ConfusionChart($("#confusion-heatmap"));
const grids = new WeightGrids({ bar: $("#weight-bar"), modeSelect: $("#weight-scale"), readout: $("#weight-readout") });
let weightsLoaded = false;

async function loadWeights() {
  if (weightsLoaded) return;
  weightsLoaded = true;
  const note = $("#weight-note");
  try {
    const answer = await api.weights(id);
    const units = answer && answer.first_layer;
    if (!Array.isArray(units) || !units.length) {
      if (note) note.textContent = "No first-layer weights were stored for this run (it did not finish).";
      return;
    }
    const dead = answer.dead_units === null || answer.dead_units === undefined ? NaN : num(answer.dead_units);
    grids.set([{ id, title: `Run ${id}`, units, host: $("#weight-grid"), deadUnits: Number.isFinite(dead) ? dead : null }]);
    setText($("#dead-units"), `${units.length} hidden units · dead units (every incoming |w| < 10⁻³): ${Number.isFinite(dead) ? dead : "?"}`);
  } catch (err) {
    weightsLoaded = false;
    if (note) note.textContent = `Could not load the weights: ${err.message}`;
  }
}

const progress = new Progress();
progress.fromRun(run);
const progressRow = $("#run-progress");
const bar = $("#run-progress-bar");
const progressText = $("#run-progress-text");

function renderProgress() {
  progressRow.hidden = !isLive(run.status);
  bar.max = progress.total || 1;
  bar.value = Math.min(progress.step, progress.total || 1);
  const eta = progress.eta();
  setText(progressText, progress.epochs
    ? `epoch ${progress.currentEpoch()}/${progress.epochs} · step ${progress.step}/${progress.total || "?"}` +
      (run.status === "running" ? ` · ETA ${eta === null ? "…" : fmtDuration(eta)}` : "")
    : run.status);
}

const RESULT_FORMAT = {
  test_accuracy: (v) => `${(v * 100).toFixed(2)} %`,
  train_accuracy: (v) => `${(v * 100).toFixed(2)} %`,
  sparsity: (v) => `${(v * 100).toFixed(1)} %`,
  seconds: (v) => fmtDuration(v),
  dead_units: (v) => String(v),
};

function renderRun() {
  const status = $("#run-status");
  setText(status, run.status);
  status.className = `status status-${run.status}`;
  setText($("#run-reason"), run.reason || "");
  const r = run.result || {};
  for (const dd of document.querySelectorAll("#run-result dd[data-key]")) {
    const v = num(r[dd.dataset.key]);
    const format = RESULT_FORMAT[dd.dataset.key] || ((x) => fmtG(x, 5));
    setText(dd, Number.isFinite(v) ? format(v) : "—");
  }
  $("#run-actions [data-action=cancel]").hidden = !isLive(run.status);
  renderProgress();
}

function renderConfusion(final) {
  const matrix = final && final.confusion;
  if (!Array.isArray(matrix) || !matrix.length) return;
  const table = $("#confusion");
  const max = Math.max(1, ...matrix.flat().map(Number));
  const head = el("tr", {}, el("th", { scope: "col", text: "true ╲ predicted" }),
    ...matrix.map((_, j) => el("th", { scope: "col", text: String(j) })));
  const rows = matrix.map((row, i) => el("tr", {}, el("th", { scope: "row", text: String(i) }),
    ...row.map((count, j) => {
      const td = el("td", { class: i === j ? "diag" : "", text: String(count) });
      td.style.setProperty("--heat", (Number(count) / max).toFixed(3));
      return td;
    })));
  table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
  $("#confusion-section").hidden = false;
  confusion.set(matrix);
}

function onChunk(runId, chunk) {
  if (String(runId) !== id) return;
  charts.ingest(id, chunk);
  if (chunk.batch) partsBatch.append(chunk.batch);
  if (chunk.epoch) {
    partsEpoch.append(chunk.epoch);
    history.append(id, chunk.epoch);
  }
  progress.fromChunk(chunk);
  progressRow.dataset.lastSeq = String(chunk.last_seq);
  $("#run-page").dataset.lastSeq = String(chunk.last_seq);
  const e = chunk.epoch;
  if (e && e.epoch && e.epoch.length && isLive(run.status)) {
    const i = e.epoch.length - 1;
    const latest = {};
    for (const key of ["test_accuracy", "train_accuracy", "test_loss", "train_loss", "data_loss", "penalty", "sparsity"]) {
      if (e[key]) latest[key] = e[key][i];
    }
    run = { ...run, result: { ...(run.result || {}), ...latest } };
  }
  if (chunk.final) {
    renderConfusion(chunk.final);
    if (chunk.final.event === "done" || chunk.final.confusion) {
      if (!weightsLoaded) setText($("#weight-note"), "Loading the weights…");
      onceNearView($("#weight-figure"), loadWeights);
    }
    if (isLive(run.status)) refreshRun(); // the status notice normally follows; do not depend on it
  }
  renderRun();
}

async function refreshRun() {
  try {
    const fresh = await api.getRun(id);
    if (fresh && fresh.id !== undefined && !isLive(fresh.status)) {
      run = fresh;
      renderRun();
    } else {
      setTimeout(refreshRun, 1000); // the store may not have the final status yet
    }
  } catch {
    /* the notice will do */
  }
}

stream.on("chunk", onChunk);
stream.on("run", (changed) => {
  if (String(changed.id) !== id) return;
  run = changed;
  renderRun();
  if (isLive(run.status) && !stream.isSubscribed(id)) stream.subscribe(id, Number($("#run-page").dataset.lastSeq ?? -1));
});
stream.on("run_deleted", (deletedId) => {
  if (String(deletedId) !== id) return;
  $("#run-reason").textContent = "this run was deleted";
});
stream.on("open", async ({ reconnected }) => {
  if (!reconnected) return;
  try {
    run = await api.getRun(id);
    renderRun();
  } catch {
    /* keep what we have */
  }
});

for (const button of document.querySelectorAll("#run-actions button[data-action]")) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      if (button.dataset.action === "cancel") {
        const answer = await api.cancel(id);
        if (answer && answer.id !== undefined) run = answer;
        renderRun();
      } else if (button.dataset.action === "rerun") {
        const again = await api.rerun(id);
        location.assign(`/runs/${again.id}`);
      }
    } catch (err) {
      $("#run-reason").textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });
}

$("#run-page").dataset.lastSeq = "-1";
renderRun();
// For debugging and the browser tests (e.g. dropping the socket to test reconnecting).
window.normlab = { stream, charts, history, grids };

stream.connect();
// The charts wait for the stored curves (or their failure) and then draw once, full.
holdDraws(loadRun(stream, run, (chunk) => onChunk(id, chunk))).catch((err) => {
  $("#run-reason").textContent = `could not load the curves: ${err.message}`;
});
