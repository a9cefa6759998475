// What happened inside a run (the run page and the compare page):
//   * the loss split into its data part and its penalty part, stacked (data + penalty = total),
//     per batch and per epoch, each on its own x-axis;
//   * per-epoch weight norms ‖W‖₁, ‖W‖₂ per layer and the fraction of near-zero weights;
//   * each layer's final weight histogram (fixed bins, log-scaled counts), overlaid across runs;
//   * the confusion matrix as a heatmap.
// All SVG (the page's CSP forbids the code generation Plotly's WebGL layer needs); the per-batch
// chart is downsampled for the view like the loss chart (M4, see charts.js).

import {
  Chart, PerEpochChart, GRID, MAX_VIEW_POINTS, MinMaxDecimator, finiteOrNull, quantileRange, rangeOrAuto, FONT,
} from "./charts.js";
import { Smoother } from "./smoothing.js";
import { fmtG } from "./format.js";
import { runName } from "./plotly_text.js";

// engine/metrics.py: HIST_EDGES = 80 equal bins over [-1, 1]; values outside go to the end bins.
export const HIST_BINS = 80;
export const HIST_LOW = -1;
export const HIST_HIGH = 1;
const BIN = (HIST_HIGH - HIST_LOW) / HIST_BINS;
export const SPARSITY_THRESHOLD = 1e-3;

const DATA_COLOR = "#4e79a7";
const PENALTY_COLOR = "#f28e2b";
const LAYER_COLORS = { W1: "#4e79a7", W2: "#e15759", W3: "#59a14f", W4: "#b07aa1" };
const LAYER_DASH = ["solid", "dash", "dot", "dashdot"];

const layerColor = (name, i) => LAYER_COLORS[name] || ["#4e79a7", "#e15759", "#59a14f", "#b07aa1"][i % 4];

// ---- the loss, data part + penalty part, per batch (one run) ----------------------------------

export class LossPartsBatchChart extends Chart {
  constructor(el, { smoothing = 0.6 } = {}) {
    super(el);
    this.smoothing = smoothing;
    this.fitQuantiles = false;
    this.reset();
  }

  reset() {
    this.idx = [];
    this.x = [];
    this.data = [];
    this.pen = [];
    this.total = [];
    this.sData = [];
    this.sPen = [];
    this.sTotal = [];
    this.smData = new Smoother(this.smoothing);
    this.smPen = new Smoother(this.smoothing);
    this.rawView = new MinMaxDecimator(MAX_VIEW_POINTS.svg);
    this.stackView = new MinMaxDecimator(MAX_VIEW_POINTS.svg);
  }

  note() {
    return this.x.length ? null : "Waiting for data…";
  }

  updateCount() {
    this.el.dataset.points = String(this.x.length);
  }

  append(batch) {
    if (!batch || !batch.step || !batch.step.length) return;
    for (let i = 0; i < batch.step.length; i++) this.push(batch.step[i], batch.data_loss[i], batch.penalty[i]);
    this.updateCount();
    this.schedule();
  }

  push(step, dataLoss, penalty) {
    const d = finiteOrNull(dataLoss);
    const p = finiteOrNull(penalty);
    this.idx.push(this.x.length);
    this.x.push(step);
    this.data.push(d);
    this.pen.push(p);
    this.total.push(d === null || p === null ? null : d + p);
    // The EMA is linear, so the smoothed parts add up to the smoothed total.
    const sd = d === null ? null : this.smData.push(d);
    const sp = p === null ? null : this.smPen.push(p);
    this.sData.push(sd);
    this.sPen.push(sp);
    this.sTotal.push(sd === null || sp === null ? null : sd + sp);
  }

  setSmoothing(weight) {
    if (weight === this.smoothing) return;
    this.smoothing = weight;
    const old = { x: this.x, data: this.data, pen: this.pen };
    this.reset();
    for (let i = 0; i < old.x.length; i++) this.push(old.x[i], old.data[i], old.pen[i]);
    this.schedule();
  }

  setFitQuantiles(on) {
    this.fitQuantiles = on;
    this.schedule();
  }

  traces() {
    // One set of indices for both parts (picked on the smoothed total), so the stack stays exact.
    const picked = this.stackView.view(this.idx, this.sTotal).x;
    const raw = this.rawView.view(this.x, this.total);
    const at = (arr) => picked.map((i) => arr[i]);
    const xs = at(this.x);
    return [
      {
        type: "scatter", mode: "lines", uid: "raw-total", name: "total, raw", x: raw.x, y: raw.y,
        line: { color: "#52606d", width: 1 }, opacity: 0.25, hoverinfo: "skip",
      },
      {
        type: "scatter", mode: "lines", uid: "data", name: "data loss (cross-entropy)", x: xs, y: at(this.sData),
        stackgroup: "parts", line: { color: DATA_COLOR, width: 1.5 }, fillcolor: "rgba(78,121,167,0.45)",
        hovertemplate: "step %{x}<br>data loss %{y:.4f}<extra></extra>",
      },
      {
        type: "scatter", mode: "lines", uid: "penalty", name: "penalty (λ part)", x: xs, y: at(this.sPen),
        stackgroup: "parts", line: { color: PENALTY_COLOR, width: 1.5 }, fillcolor: "rgba(242,142,43,0.5)",
        customdata: at(this.sTotal),
        hovertemplate: "step %{x}<br>penalty %{y:.4f}<br>total %{customdata:.4f}<extra></extra>",
      },
    ];
  }

  layout() {
    return {
      ...this.baseLayout(),
      showlegend: true,
      hovermode: "x unified",
      xaxis: { title: { text: "step (SGD batches)" }, gridcolor: GRID, zeroline: false, rangemode: "tozero" },
      yaxis: {
        title: { text: "loss (nats): data + penalty" }, gridcolor: GRID, zeroline: false, rangemode: "tozero",
        ...rangeOrAuto(this.fitQuantiles ? quantileRange(this.total) : null),
      },
    };
  }
}

// ---- the same per epoch (one run) ----------------------------------------------------------------

export class LossPartsEpochChart extends PerEpochChart {
  constructor(el) {
    super(el);
    this.x = [];
    this.data = [];
    this.pen = [];
    this.test = [];
    this.fitQuantiles = false;
  }

  note() {
    return this.x.length ? null : "Waiting for the first epoch…";
  }

  updateCount() {
    this.el.dataset.points = String(this.x.length);
  }

  append(epoch) {
    if (!epoch || !epoch.epoch || !epoch.epoch.length) return;
    for (let i = 0; i < epoch.epoch.length; i++) {
      this.x.push(epoch.epoch[i]);
      this.data.push(finiteOrNull(epoch.data_loss[i]));
      this.pen.push(finiteOrNull(epoch.penalty[i]));
      this.test.push(finiteOrNull(epoch.test_loss && epoch.test_loss[i]));
    }
    this.updateCount();
    this.schedule();
  }

  setFitQuantiles(on) {
    this.fitQuantiles = on;
    this.schedule();
  }

  traces() {
    const totals = this.x.map((_, i) => (this.data[i] === null || this.pen[i] === null ? null : this.data[i] + this.pen[i]));
    return [
      {
        type: "scatter", mode: "lines+markers", uid: "data", name: "train data loss", x: this.x, y: this.data,
        stackgroup: "parts", line: { color: DATA_COLOR, width: 1.5 }, fillcolor: "rgba(78,121,167,0.45)",
        marker: { size: 5 }, hovertemplate: "data loss %{y:.4f}<extra></extra>",
      },
      {
        type: "scatter", mode: "lines+markers", uid: "penalty", name: "penalty", x: this.x, y: this.pen,
        stackgroup: "parts", line: { color: PENALTY_COLOR, width: 1.5 }, fillcolor: "rgba(242,142,43,0.5)",
        marker: { size: 5 }, customdata: totals,
        hovertemplate: "penalty %{y:.4f}<br>train loss (total) %{customdata:.4f}<extra></extra>",
      },
      {
        type: "scatter", mode: "lines+markers", uid: "test", name: "test loss (data only)", x: this.x, y: this.test,
        line: { color: "#1f2933", width: 1.5, dash: "dot" }, marker: { size: 5, symbol: "diamond" },
        hovertemplate: "test loss %{y:.4f}<extra></extra>",
      },
    ];
  }

  layout() {
    const all = [...this.x.map((_, i) => (this.data[i] ?? 0) + (this.pen[i] ?? 0)), ...this.test];
    return {
      ...this.baseLayout(),
      showlegend: true,
      hovermode: "x unified",
      xaxis: {
        title: { text: "epoch" }, gridcolor: GRID, zeroline: false, rangemode: "nonnegative",
        ...(this.x.length && this.x[this.x.length - 1] <= 12 ? { tickmode: "linear", tick0: 0, dtick: 1 } : {}),
      },
      yaxis: {
        title: { text: "loss (nats), mean over the epoch" }, gridcolor: GRID, zeroline: false, rangemode: "tozero",
        ...rangeOrAuto(this.fitQuantiles ? quantileRange(all) : null),
      },
    };
  }
}

// ---- per-epoch weight statistics (one or more runs) ----------------------------------------------

const WEIGHT_METRICS = {
  l1: { title: "‖W‖₁ = Σ|w| (per layer)", format: ".4g", note: "‖W‖₁" },
  l2: { title: "‖W‖₂ = √Σw² (per layer)", format: ".4g", note: "‖W‖₂" },
  sparsity: { title: "weights with |w| < 10⁻³ (%)", format: ".2%", note: "sparsity" },
};

// Runs' per-epoch weight summaries (metrics.epoch.weights), kept once for all three charts.
export class WeightHistory {
  constructor() {
    this.runs = new Map(); // id → {id, label, color, epochs: [], overall: [], layers: Map(name → {l1, l2, sparsity})}
    this.listeners = [];
  }

  ensure(id, { label, color }) {
    const key = String(id);
    if (!this.runs.has(key)) this.runs.set(key, { id: key, label, color, epochs: [], overall: [], layers: new Map(), last: null });
    return this.runs.get(key);
  }

  reset(id) {
    const run = this.runs.get(String(id));
    if (!run) return;
    run.epochs = [];
    run.overall = [];
    run.layers = new Map();
    run.last = null;
  }

  append(id, epoch) {
    const run = this.runs.get(String(id));
    if (!run || !epoch || !epoch.epoch || !epoch.epoch.length || !epoch.weights) return;
    for (let i = 0; i < epoch.epoch.length; i++) {
      const stats = epoch.weights[i];
      if (!Array.isArray(stats)) continue;
      run.epochs.push(epoch.epoch[i]);
      run.overall.push(finiteOrNull(epoch.sparsity && epoch.sparsity[i]));
      stats.forEach((w) => {
        if (!run.layers.has(w.name)) run.layers.set(w.name, { l1: [], l2: [], sparsity: [], shape: w.shape });
        const layer = run.layers.get(w.name);
        // A layer first seen late gets nulls for the epochs before (never happens, but stay aligned).
        while (layer.l1.length < run.epochs.length - 1) {
          layer.l1.push(null);
          layer.l2.push(null);
          layer.sparsity.push(null);
        }
        layer.l1.push(finiteOrNull(w.l1));
        layer.l2.push(finiteOrNull(w.l2));
        layer.sparsity.push(finiteOrNull(w.sparsity));
      });
      run.last = { epoch: epoch.epoch[i], weights: stats };
    }
    for (const fn of this.listeners) fn(run);
  }

  onChange(fn) {
    this.listeners.push(fn);
  }
}

export class WeightEpochChart extends PerEpochChart {
  constructor(el, history, metric) {
    super(el);
    this.history = history;
    this.metric = metric;
    history.onChange(() => {
      this.updateCount();
      this.schedule();
    });
  }

  note() {
    return [...this.history.runs.values()].some((r) => r.epochs.length) ? null : "Waiting for the first epoch…";
  }

  updateCount() {
    let n = 0;
    for (const run of this.history.runs.values()) n += run.epochs.length;
    this.el.dataset.points = String(n);
  }

  traces() {
    const runs = [...this.history.runs.values()];
    const single = runs.length === 1;
    const out = [];
    const spec = WEIGHT_METRICS[this.metric];
    for (const run of runs) {
      [...run.layers.entries()].forEach(([name, layer], i) => {
        const shape = layer.shape ? ` (${layer.shape.join("×")})` : "";
        out.push({
          type: "scatter", mode: "lines+markers", uid: `${run.id}-${name}`,
          name: single ? `${name}${shape}` : `#${run.id} ${name}`, legendgroup: single ? name : run.id,
          x: run.epochs, y: layer[this.metric], marker: { size: 5 },
          line: { color: single ? layerColor(name, i) : run.color, width: 2, dash: single ? "solid" : LAYER_DASH[i % 4] },
          hovertemplate: `epoch %{x}<br>${name} ${spec.note} %{y:${spec.format}}<extra>${runName(run.id, run.label)}</extra>`,
        });
      });
      if (this.metric === "sparsity") {
        out.push({
          type: "scatter", mode: "lines", uid: `${run.id}-all`, name: single ? "all weights" : `#${run.id} all weights`,
          legendgroup: single ? "all" : run.id, x: run.epochs, y: run.overall,
          line: { color: single ? "#1f2933" : run.color, width: 3 }, opacity: 0.6,
          hovertemplate: `epoch %{x}<br>all weights %{y:.2%}<extra>#${run.id}</extra>`,
        });
      }
    }
    return out;
  }

  layout() {
    const spec = WEIGHT_METRICS[this.metric];
    const last = Math.max(0, ...[...this.history.runs.values()].map((r) => r.epochs[r.epochs.length - 1] || 0));
    return {
      ...this.baseLayout(),
      showlegend: true,
      margin: { l: 64, r: 16, t: 12, b: 48 },
      xaxis: {
        title: { text: "epoch" }, gridcolor: GRID, zeroline: false,
        ...(last <= 12 ? { tickmode: "linear", tick0: 0, dtick: 1 } : {}),
      },
      yaxis: {
        title: { text: spec.title }, gridcolor: GRID, zeroline: false, rangemode: "tozero",
        ...(this.metric === "sparsity" ? { tickformat: ".1%" } : {}),
      },
    };
  }
}

// ---- final weight histograms (one chart per layer, runs overlaid) --------------------------------

export const BIN_CENTRES = Array.from({ length: HIST_BINS }, (_, i) => HIST_LOW + (i + 0.5) * BIN);

export class HistogramChart extends PerEpochChart {
  constructor(el, history, layer) {
    super(el);
    this.history = history;
    this.layer = layer;
    history.onChange(() => {
      this.updateCount();
      this.schedule();
    });
  }

  shown() {
    const out = [];
    for (const run of this.history.runs.values()) {
      const w = run.last && run.last.weights.find((x) => x.name === this.layer);
      if (w && Array.isArray(w.histogram)) out.push({ run, w, epoch: run.last.epoch });
    }
    return out;
  }

  note() {
    return this.shown().length ? null : "Waiting for the first epoch…";
  }

  updateCount() {
    this.el.dataset.traces = String(this.shown().length);
    this.el.dataset.points = String(this.shown().length * HIST_BINS);
  }

  traces() {
    const shown = this.shown();
    const single = shown.length === 1;
    return shown.map(({ run, w, epoch }) => {
      const counts = w.histogram.map(Number);
      const total = counts.reduce((a, b) => a + b, 0) || 1;
      return {
        type: "bar", uid: `${run.id}`, name: runName(run.id, run.label), x: BIN_CENTRES,
        y: counts.map((c) => (c > 0 ? c : null)), width: BIN,
        marker: { color: run.color, opacity: single ? 0.8 : 0.45, line: { color: run.color, width: 1 } },
        customdata: counts.map((c, i) => [binLabel(i), c / total, epoch]),
        hovertemplate: `%{customdata[0]}<br>%{y:,} weights (%{customdata[1]:.2%})<extra>#${run.id} · epoch %{customdata[2]}</extra>`,
      };
    });
  }

  layout() {
    // Show the bins that hold weights (with a margin); the full [-1, 1] is a zoom-out away.
    let lo = HIST_BINS;
    let hi = -1;
    for (const { w } of this.shown()) {
      w.histogram.forEach((c, i) => {
        if (Number(c) > 0) {
          lo = Math.min(lo, i);
          hi = Math.max(hi, i);
        }
      });
    }
    const range = hi >= lo ? [HIST_LOW + Math.max(0, lo - 2) * BIN, HIST_LOW + Math.min(HIST_BINS, hi + 3) * BIN] : [HIST_LOW, HIST_HIGH];
    return {
      ...this.baseLayout(),
      showlegend: true,
      barmode: "overlay",
      bargap: 0,
      margin: { l: 64, r: 16, t: 12, b: 48 },
      xaxis: {
        title: { text: `weight value w (bins of ${fmtG(BIN)}; |w| > 1 counted in the end bins)` },
        gridcolor: GRID, zeroline: true, zerolinecolor: "#9aa5b1", range,
      },
      yaxis: { title: { text: "weights per bin (count, log scale)" }, type: "log", dtick: 1, gridcolor: GRID, zeroline: false },
    };
  }
}

function binLabel(i) {
  const a = HIST_LOW + i * BIN;
  const b = a + BIN;
  if (i === 0) return `w < ${fmtG(b, 3)}`;
  if (i === HIST_BINS - 1) return `w ≥ ${fmtG(a, 3)}`;
  return `${fmtG(a, 3)} ≤ w < ${fmtG(b, 3)}`;
}

// ---- the confusion matrix as a heatmap ----------------------------------------------------------

// A chart like the others (drawn when scrolled to, in its own task); nothing is drawn before
// set(matrix). data-cells and data-total say what was drawn.
export class ConfusionChart extends PerEpochChart {
  set(matrix) {
    if (!Array.isArray(matrix) || !matrix.length) return;
    this.rows = matrix.map((row) => row.map(Number));
    this.schedule();
  }

  schedule() {
    if (this.rows) super.schedule();
  }

  traces() {
    const rows = this.rows;
    const rowTotals = rows.map((row) => row.reduce((a, b) => a + b, 0) || 1);
    const share = rows.map((row, i) => row.map((c) => c / rowTotals[i]));
    const classes = rows.map((_, i) => String(i));
    const custom = rows.map((row, i) => row.map((c, j) => [c, share[i][j], rowTotals[i]]));
    return [{
      type: "heatmap", x: classes, y: classes, z: share, zmin: 0, zmax: 1,
      colorscale: [[0, "#ffffff"], [0.05, "#dbe9f6"], [0.3, "#6baed6"], [0.7, "#2171b5"], [1, "#08306b"]],
      colorbar: { title: { text: "share of the true class", side: "right" }, tickformat: ".0%", thickness: 12 },
      text: rows.map((row) => row.map(String)), texttemplate: "%{text}", textfont: { size: 11 },
      customdata: custom, xgap: 1, ygap: 1,
      hovertemplate: "true %{y} → predicted %{x}<br>%{customdata[0]} of %{customdata[2]} (%{customdata[1]:.1%})<extra></extra>",
    }];
  }

  layout() {
    return {
      datarevision: this.rev, autosize: true, margin: { l: 64, r: 16, t: 12, b: 52 }, font: FONT,
      paper_bgcolor: "rgba(0,0,0,0)",
      xaxis: { title: { text: "predicted class" }, side: "bottom", type: "category", constrain: "domain" },
      yaxis: { title: { text: "true class (rows: test images of that digit)" }, type: "category", autorange: "reversed",
        scaleanchor: "x", constrain: "domain" },
    };
  }

  afterDraw() {
    this.el.dataset.cells = String(this.rows.length * this.rows.length);
    this.el.dataset.total = String(this.rows.reduce((sum, row) => sum + row.reduce((a, b) => a + b, 0), 0));
  }
}
