// Entry point of a run's own page (/runs/<id>): its full stored curves, then live if it runs.
//
// Loaded as an async module, so it runs as soon as it is here, not after Plotly.js (a deferred
// script, ~1 s to run on a cold cache): the stored curves (/metrics, already requested by the
// page's <link rel="preload">) are asked for and taken in while Plotly loads. Chart drawing is
// held until they are in (no chart is drawn empty first), then the loss per batch draws first and
// each other chart in its own animation frame when it is on screen (charts/schedule.js). The
// first-layer weights (a large answer) are fetched when their figure is scrolled to.
//
// The run's status, progress and result are the server's view of it (embedded in the page, then
// `run` messages), carried forward by its frames while it is live (run_view.js).

import { api } from "./api.js";
import { ConfusionChart } from "./charts/confusion.js";
import { HistogramChart } from "./charts/histogram.js";
import { LossPartsBatchChart, LossPartsEpochChart } from "./charts/loss_parts.js";
import { RunCharts } from "./charts/run_charts.js";
import { holdDraws, onceNearView } from "./charts/schedule.js";
import { WeightEpochChart, WeightHistory } from "./charts/weight_epochs.js";
import { WeightGrids } from "./charts/weight_images.js";
import { $, $$, el, readJson, setText } from "./dom.js";
import { formLink } from "./form_link.js";
import { colorFor, fmtAccuracy, fmtDuration, fmtG, fmtPow10, fmtSparsity, num, runLabel } from "./format.js";
import { RunInsight, sharedRequest } from "./insight/run_insight.js";
import { loadRun, pageStream } from "./page.js";
import { armedButton } from "./armed.js";
import { advance } from "./run_view.js";
import { sparsityThreshold } from "./schema.js";

let run = readJson("run-data");
const id = String(run.id);
const page = $("#run-page");

const stream = pageStream();

const charts = RunCharts.ofPage();
charts.add(id, { label: runLabel(run), color: colorFor(id) });

// Inside the run: loss parts, weight norms and sparsity per epoch, histograms, weight images.
const partsBatch = charts.follow(new LossPartsBatchChart($("#parts-batch-chart")));
const partsEpoch = charts.follow(new LossPartsEpochChart($("#parts-epoch-chart")));
const history = new WeightHistory();
history.ensure(id, { label: runLabel(run), color: colorFor(id) });
const histView = { viewSelect: $("#hist-view") };
const histograms = [new HistogramChart($("#hist-W1"), history, "W1", histView), new HistogramChart($("#hist-W2"), history, "W2", histView)];
const insideCharts = [
  new WeightEpochChart($("#norm1-chart"), history, "l1"), new WeightEpochChart($("#norm2-chart"), history, "l2"),
  new WeightEpochChart($("#sparsity-chart"), history, "sparsity"), ...histograms,
];
const confusion = new ConfusionChart($("#confusion-heatmap"));
const ENDED_EARLY = { failed: "failed", cancelled: "was cancelled", interrupted: "was interrupted" };
const grids = new WeightGrids({ bar: $("#weight-bar"), modeSelect: $("#weight-scale"), readout: $("#weight-readout") });
let weightsLoaded = false;
const weights = sharedRequest(() => api.weights(id));
const insight = new RunInsight(run, weights, histograms);

async function loadWeights() {
  if (weightsLoaded) return;
  weightsLoaded = true;
  const note = $("#weight-note");
  try {
    const answer = await weights();
    const units = answer && answer.first_layer;
    if (!Array.isArray(units) || !units.length) {
      if (note) note.textContent = "No first-layer weights were stored for this run (it did not finish).";
      return;
    }
    const dead = num(answer.dead_units);
    grids.set([{ id, title: `Run ${id}`, units, host: $("#weight-grid"), deadUnits: Number.isFinite(dead) ? dead : null }]);
    setText($("#dead-units"), `${units.length} hidden units · dead units (every incoming |w| < ${fmtPow10(sparsityThreshold())}): ` +
      `${Number.isFinite(dead) ? dead : "?"}`);
  } catch (err) {
    weightsLoaded = false;
    if (note) note.textContent = `Could not load the weights: ${err.message}`;
  }
}

function renderProgress() {
  const p = run.progress || {};
  $("#run-progress").hidden = !run.live;
  $("#run-progress-bar").value = p.fraction || 0;
  const eta = run.status === "running" ? ` · ETA ${p.eta_seconds == null ? "…" : fmtDuration(p.eta_seconds)}` : "";
  setText($("#run-progress-text"), run.status === "queued" || !p.total_steps
    ? run.status
    : `epoch ${p.current_epoch}/${p.epochs} · step ${p.step}/${p.total_steps}${eta}`);
}

const RESULT_FORMAT = {
  test_accuracy: fmtAccuracy,
  train_accuracy: fmtAccuracy,
  sparsity: fmtSparsity,
  seconds: (v) => fmtDuration(v),
  dead_units: (v) => String(v),
};

// A run that ended without finishing: the page says so and why, in full; empty charts say it will
// not come (instead of waiting), and the weights that will never be are not promised.
function renderOutcome() {
  const how = ENDED_EARLY[run.status];
  const box = $("#run-outcome");
  box.hidden = !how;
  if (!how) return;
  box.dataset.status = run.status;
  setText($("#outcome-heading"), `This run ${how}`);
  setText($("#outcome-reason"), run.reason || "(no reason was recorded)");
  const p = run.progress || {};
  setText($("#outcome-note"), p.step ? `It got to epoch ${p.current_epoch} of ${p.epochs}, step ${p.step} of ${p.total_steps}: `
    + "the charts show what it did until then." : "It stopped before its first step: there is nothing to draw.");
  const note = `No data: the run ${how} before any`;
  charts.setEnded(note);
  for (const chart of insideCharts) chart.setEnded(note);
  if (!weightsLoaded) setText($("#weight-note"), `No final weights: the run ${how} before it finished.`);
}

function renderRun() {
  const status = $("#run-status");
  setText(status, run.status);
  status.className = `status status-${run.status}`;
  const r = run.result || {};
  for (const dd of $$("#run-result dd[data-key]")) {
    const v = num(r[dd.dataset.key]);
    const format = RESULT_FORMAT[dd.dataset.key] || ((x) => fmtG(x, 5));
    setText(dd, Number.isFinite(v) ? format(v) : "—");
  }
  $("#run-actions [data-action=cancel]").hidden = !run.live;
  $("#run-actions [data-action=delete]").hidden = run.live;
  renderOutcome();
  renderProgress();
}

function renderConfusion(final) {
  const matrix = final && final.confusion;
  if (!Array.isArray(matrix) || !matrix.length) return;
  const max = Math.max(1, ...matrix.flat().map(Number));
  const head = el("tr", {}, el("th", { scope: "col", text: "true ╲ predicted" }),
    ...matrix.map((_, j) => el("th", { scope: "col", text: String(j) })));
  const rows = matrix.map((row, i) => el("tr", {}, el("th", { scope: "row", text: String(i) }),
    ...row.map((count, j) => {
      const td = el("td", { class: i === j ? "diag" : "", text: String(count) });
      td.style.setProperty("--heat", (Number(count) / max).toFixed(3));
      return td;
    })));
  $("#confusion").replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
  $("#confusion-section").hidden = false;
  confusion.set(matrix);
}

function onChunk(runId, chunk) {
  if (String(runId) !== id) return;
  charts.ingest(id, chunk);
  insight.ingest(chunk);
  if (chunk.batch) partsBatch.append(chunk.batch);
  if (chunk.epoch) {
    partsEpoch.append(chunk.epoch);
    history.append(id, chunk.epoch);
  }
  $("#run-progress").dataset.lastSeq = String(chunk.last_seq);
  page.dataset.lastSeq = String(chunk.last_seq);
  run = advance(run, chunk);
  if (chunk.final) {
    renderConfusion(chunk.final);
    if (chunk.final.event === "done" || chunk.final.confusion) {
      if (!weightsLoaded) setText($("#weight-note"), "Loading the weights…");
      onceNearView($("#weight-figure"), loadWeights);
    }
  }
  renderRun();
}

let curvesLoaded = false;

// A new view of the run; one that is live again (e.g. requeued) streams on from what is held.
function seeRun(changed) {
  run = changed;
  renderRun();
  insight.see(run);
  if (curvesLoaded && run.live && !stream.isSubscribed(id)) stream.subscribe(id, Number(page.dataset.lastSeq));
}

stream.on("chunk", onChunk);
stream.on("run", (changed) => {
  if (String(changed.id) === id) seeRun(changed);
});
stream.on("run_deleted", (deletedId) => {
  if (String(deletedId) === id) setText($("#run-reason"), "this run was deleted");
});
// `run` messages describe changes made after the socket's hello: what changed before it (while
// the page loaded, or while the socket was down) is asked for once the hello arrived.
stream.on("hello", async () => {
  try {
    seeRun(await api.getRun(id));
  } catch {
    /* keep what we have */
  }
});

armedButton($("#run-actions [data-action=delete]"), async () => {
  try {
    await api.remove(id);
    location.assign("/");
  } catch (err) {
    setText($("#run-reason"), err.message);
  }
});
$("#edit-settings").href = formLink(run.settings || {});

for (const button of $$("#run-actions button[data-action=cancel], #run-actions button[data-action=rerun]")) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      if (button.dataset.action === "cancel") {
        seeRun(await api.cancel(id));
      } else if (button.dataset.action === "rerun") {
        const again = await api.rerun(id);
        location.assign(`/runs/${again.id}`);
      }
    } catch (err) {
      setText($("#run-reason"), err.message);
    } finally {
      button.disabled = false;
    }
  });
}

page.dataset.lastSeq = "-1";
renderRun();
// For debugging and the browser tests (e.g. dropping the socket to test reconnecting).
window.normlab = { stream, charts, history, grids, insight };

stream.connect();
// The charts wait for the stored curves (or their failure) and then draw once, full.
holdDraws(loadRun(stream, run, (chunk) => onChunk(id, chunk))).then(() => {
  curvesLoaded = true;
}, (err) => {
  setText($("#run-reason"), `could not load the curves: ${err.message}`);
});
