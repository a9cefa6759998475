// The compare page (/compare?runs=1,2,3): the runs' first-layer weights side by side on one shared
// colour scale, their final weight histograms overlaid, their weight norms and sparsity per epoch,
// and their final numbers.
//
// Per run it fetches /weights (the images) and /metrics (the per-epoch weight summaries). A run
// still going is shown as far as it got and loaded again when it ends.

import { api } from "./api.js";
import { HistogramChart } from "./charts/histogram.js";
import { holdDraws } from "./charts/schedule.js";
import { WeightEpochChart, WeightHistory } from "./charts/weight_epochs.js";
import { WeightGrids } from "./charts/weight_images.js";
import { $, $$, el, readJson, setText } from "./dom.js";
import { CompareInsight } from "./insight/compare_insight.js";
import { colorFor, fmtAccuracy, fmtG, fmtPct, fmtPoints, fmtPow10, fmtSparsity, lambdaText, num, penaltyName, runLabel } from "./format.js";
import { pageStream } from "./page.js";
import { sparsityThreshold } from "./schema.js";

let runs = readJson("compare-data");
const stream = pageStream();

function renderTable(weights) {
  const tbody = $("#compare-table tbody");
  if (!tbody) return;
  tbody.replaceChildren(...runs.map((run) => {
    const r = run.result || {};
    const w = weights.get(String(run.id));
    const dead = w && Number.isFinite(num(w.dead_units)) ? num(w.dead_units) : num(r.dead_units);
    const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
    swatch.style.setProperty("--run-color", colorFor(run.id));
    const gap = num(r.train_accuracy) - num(r.test_accuracy);
    return el("tr", { "data-run": run.id, "data-status": run.status },
      el("td", { class: "col-id" }, swatch, " ", el("a", { href: `/runs/${run.id}`, text: `#${run.id}` }), " ",
        el("span", { class: "run-label-cell", text: run.label || "" })),
      el("td", {}, el("span", { class: `status status-${run.status}`, text: run.status })),
      el("td", { text: penaltyName(run) }),
      el("td", { class: "num", text: lambdaText(run) }),
      el("td", { class: "num", text: String(run.settings.seed) }),
      el("td", { class: "num", text: String(run.settings.hidden) }),
      el("td", { class: "num", "data-col": "accuracy", text: fmtAccuracy(r.test_accuracy) }),
      el("td", { class: "num", text: fmtPoints(gap) }),
      el("td", { class: "num", "data-col": "sparsity", text: fmtSparsity(r.sparsity) }),
      el("td", { class: "num", "data-col": "dead", text: Number.isFinite(dead) ? `${dead} of ${run.settings.hidden}` : "—" }),
      el("td", { class: "num", "data-col": "prunable", text: fmtPct(r.prunable_fraction, 0) }),
      el("td", { class: "num", text: fmtG(r.l1_norm, 4) }),
      el("td", { class: "num", text: fmtG(r.l2_norm, 3) }));
  }));
}

const history = new WeightHistory();
const charts = [];
let insight = null;
const grids = new WeightGrids({ bar: $("#weight-bar"), modeSelect: $("#weight-scale"), readout: $("#weight-readout"), wide: false });
if (runs.length) {
  for (const run of runs) history.ensure(run.id, { label: runLabel(run), color: colorFor(run.id) });
  const histView = { viewSelect: $("#hist-view") };
  const histograms = [new HistogramChart($("#hist-W1"), history, "W1", histView), new HistogramChart($("#hist-W2"), history, "W2", histView)];
  insight = new CompareInsight(runs, histograms);
  charts.push(...histograms,
    new WeightEpochChart($("#norm1-chart"), history, "l1"), new WeightEpochChart($("#norm2-chart"), history, "l2"),
    new WeightEpochChart($("#sparsity-chart"), history, "sparsity"));
  for (const node of $$("[data-color-run]")) node.style.setProperty("--run-color", colorFor(node.dataset.colorRun));
}

const weights = new Map();
const complete = new Set(); // runs whose metrics were fetched after they ended
let loading = null;

async function loadAll() {
  const status = $("#compare-status");
  const answers = await Promise.all(runs.map(async (run) => {
    const key = String(run.id);
    try {
      const [w, metrics] = await Promise.all([
        api.weights(run.id),
        complete.has(key) ? null : api.metrics(run.id),
      ]);
      return { run, w, metrics };
    } catch (err) {
      return { run, error: err };
    }
  }));
  const problems = [];
  const fresh = new Map(); // id → /metrics answer, for the runs asked for again
  for (const { run, w, metrics, error } of answers) {
    const key = String(run.id);
    if (error) {
      problems.push(`#${run.id}: ${error.message}`);
      continue;
    }
    weights.set(key, w);
    if (metrics) {
      // Start this run's history again from the full answer (a reload after the run ended).
      history.reset(key);
      history.append(key, metrics.epoch);
      fresh.set(key, metrics);
      if (!run.live) complete.add(key);
    }
    const dead = Number.isFinite(num(w.dead_units)) ? num(w.dead_units) : null;
    const units = w.first_layer;
    setText($(`[data-dead-for="${key}"]`), Array.isArray(units) && units.length
      ? `${units.length} hidden units · dead units (every incoming |w| < ${fmtPow10(sparsityThreshold())}): ${dead ?? "?"}`
      : run.live ? "still running: the weights appear when it finishes" : "no weights stored (the run did not finish)");
    if (!Array.isArray(units) || !units.length) {
      const grid = $(`#grid-${CSS.escape(key)}`);
      if (grid) grid.replaceChildren(el("p", { class: "empty", text: run.live ? "Still running…" : "No weights." }));
    }
  }
  grids.set(runs.map((run) => {
    const w = weights.get(String(run.id));
    return { id: run.id, title: `Run ${run.id}`, units: w && w.first_layer, host: $(`#grid-${CSS.escape(String(run.id))}`),
      deadUnits: w && w.dead_units !== null && w.dead_units !== undefined ? num(w.dead_units) : null };
  }));
  renderTable(weights);
  await insight.update(runs, weights, fresh);
  setText(status, problems.length ? `Could not load: ${problems.join("; ")}` : "");
  status.classList.toggle("error", problems.length > 0);
  $("#compare-page").dataset.loaded = String(Number($("#compare-page").dataset.loaded || 0) + 1);
}

function reload() {
  if (!loading) loading = loadAll().finally(() => { loading = null; });
  return loading;
}

// A compared run that ends: load it again (its final weights exist now).
function seeRun(changed) {
  const i = runs.findIndex((r) => String(r.id) === String(changed.id));
  if (i < 0) return;
  const wasLive = runs[i].live;
  runs = runs.map((r, j) => (j === i ? changed : r));
  if (wasLive && !changed.live) reload();
  else renderTable(weights);
}

stream.on("run", seeRun);
// `run` messages describe changes made after the socket's hello: a run still going when the page
// was made is asked for again once the hello arrived, in case it ended meanwhile.
stream.on("hello", () => {
  for (const run of runs.filter((r) => r.live)) api.getRun(run.id).then(seeRun, () => {});
});
stream.connect();

// The charts draw once the first answers are in, not empty first.
if (runs.length) holdDraws(reload());

window.normlab = { stream, history, grids, charts, insight };
