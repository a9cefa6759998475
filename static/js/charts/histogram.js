// Each layer's weight histogram at the latest epoch (the final one once the run ended), runs
// overlaid, in one of two views:
//   "w":   the value w on 80 equal bins over [-1, 1] (engine/metrics.py HIST_EDGES);
//   "abs": |w| on 32 log bins from 1e-8 to 1 (LOG_HIST_EDGES), where an L1 run's weights below the
//          sparsity threshold, all in one bin of the first view, spread out; the threshold is marked.
// Counts on a log axis; the x axis on the bins that hold weights (the full range a zoom-out away).

import { fmtG, fmtPow10 } from "../format.js";
import { sparsityThreshold } from "../schema.js";
import { Chart, GRID, runName } from "./base.js";

// engine/metrics.py: HIST_EDGES = 80 equal bins over [-1, 1]; values outside go to the end bins.
const HIST_BINS = 80;
const HIST_LOW = -1;
const HIST_HIGH = 1;
const BIN = (HIST_HIGH - HIST_LOW) / HIST_BINS;
// engine/metrics.py: LOG_HIST_EDGES = 10^-8 … 10^0, 4 bins a decade; smaller |w| (zeros too) in the first.
const LOG_LOW = -8;
const LOG_BINS = 32;
const LOG_BIN = 0.25; // decades

export const BIN_CENTRES = Array.from({ length: HIST_BINS }, (_, i) => HIST_LOW + (i + 0.5) * BIN);
export const LOG_BIN_CENTRES = Array.from({ length: LOG_BINS }, (_, i) => LOG_LOW + (i + 0.5) * LOG_BIN);

const VIEWS = {
  w: {
    key: "histogram", bins: HIST_BINS, centres: BIN_CENTRES, width: BIN, low: HIST_LOW, step: BIN,
    label(i) {
      const a = HIST_LOW + i * BIN;
      const b = a + BIN;
      if (i === 0) return `w < ${fmtG(b, 3)}`;
      if (i === HIST_BINS - 1) return `w ≥ ${fmtG(a, 3)}`;
      return `${fmtG(a, 3)} ≤ w < ${fmtG(b, 3)}`;
    },
  },
  abs: {
    key: "log_histogram", bins: LOG_BINS, centres: LOG_BIN_CENTRES, width: LOG_BIN, low: LOG_LOW, step: LOG_BIN,
    label(i) {
      const a = 10 ** (LOG_LOW + i * LOG_BIN);
      const b = 10 ** (LOG_LOW + (i + 1) * LOG_BIN);
      if (i === 0) return `|w| < ${fmtG(b, 3)}`;
      if (i === LOG_BINS - 1) return `|w| ≥ ${fmtG(a, 3)}`;
      return `${fmtG(a, 3)} ≤ |w| < ${fmtG(b, 3)}`;
    },
  },
};

export class HistogramChart extends Chart {
  constructor(el, history, layer, { view = "w", viewSelect = null } = {}) {
    super(el, { pace: "epoch" });
    this.history = history;
    this.layer = layer;
    this.overlay = null;
    this.view = VIEWS[view] ? view : "w";
    history.onChange(() => {
      this.updateCount();
      this.schedule();
    });
    if (viewSelect) {
      this.view = VIEWS[viewSelect.value] ? viewSelect.value : this.view;
      viewSelect.addEventListener("change", () => this.setView(viewSelect.value));
    }
    el.dataset.view = this.view;
  }

  // Extra traces drawn over the w view's bars, or null: overlay(shown) → traces (charts/prior_overlay.js).
  setOverlay(overlay) {
    this.overlay = overlay;
    this.schedule();
  }

  setView(view) {
    if (!VIEWS[view] || view === this.view) return;
    this.view = view;
    this.el.dataset.view = view;
    this.updateCount();
    this.schedule();
  }

  // The runs with this layer's weights at their latest epoch; `counts` in the current view, or null
  // where the run's events lack them (stored before |w| histograms were recorded).
  shown() {
    const out = [];
    for (const run of this.history.runs.values()) {
      const w = run.last && run.last.weights.find((x) => x.name === this.layer);
      if (!w || !Array.isArray(w.histogram)) continue;
      const counts = w[VIEWS[this.view].key];
      out.push({ run, counts: Array.isArray(counts) && counts.length ? counts.map(Number) : null, epoch: run.last.epoch });
    }
    return out;
  }

  note() {
    const shown = this.shown();
    if (!shown.length) return this.waiting("Waiting for the first epoch…");
    if (shown.every((s) => !s.counts)) {
      return "No |w| histogram: this run was stored before they were recorded (run it again to see one)";
    }
    return null;
  }

  pointCount() {
    return this.shown().filter((s) => s.counts).length * VIEWS[this.view].bins;
  }

  updateCount() {
    super.updateCount();
    this.el.dataset.traces = String(this.shown().filter((s) => s.counts).length);
  }

  traces() {
    const view = VIEWS[this.view];
    const shown = this.shown().filter((s) => s.counts);
    const single = shown.length === 1;
    const bars = shown.map(({ run, counts, epoch }) => {
      const total = counts.reduce((a, b) => a + b, 0) || 1;
      return {
        type: "bar", uid: `${run.id}-${this.view}`, name: runName(run.id, run.label), x: view.centres,
        y: counts.map((c) => (c > 0 ? c : null)), width: view.width,
        marker: { color: run.color, opacity: single ? 0.8 : 0.45, line: { color: run.color, width: 1 } },
        customdata: counts.map((c, i) => [view.label(i), c / total, epoch]),
        hovertemplate: `%{customdata[0]}<br>%{y:,} weights (%{customdata[1]:.2%})<extra>#${run.id} · epoch %{customdata[2]}</extra>`,
      };
    });
    // The fitted priors are densities over w: drawn in the w view only.
    return this.overlay && this.view === "w" ? [...bars, ...this.overlay(shown)] : bars;
  }

  // The bins that hold weights, with a margin (all bins when none does).
  xRange() {
    const view = VIEWS[this.view];
    let lo = view.bins;
    let hi = -1;
    for (const { counts } of this.shown()) {
      if (!counts) continue;
      counts.forEach((c, i) => {
        if (c > 0) {
          lo = Math.min(lo, i);
          hi = Math.max(hi, i);
        }
      });
    }
    if (hi < lo) return [view.low, view.low + view.bins * view.step];
    return [view.low + Math.max(0, lo - 2) * view.step, view.low + Math.min(view.bins, hi + 3) * view.step];
  }

  layout() {
    const layout = {
      ...this.baseLayout(),
      barmode: "overlay",
      bargap: 0,
      margin: { l: 64, r: 16, t: 12, b: 48 },
      yaxis: { title: { text: "weights per bin (log scale)" }, type: "log", dtick: 1, exponentformat: "power",
        gridcolor: GRID, zeroline: false },
    };
    if (this.view === "w" || this.note()) {
      layout.xaxis = { title: { text: `weight w (bins of ${fmtG(BIN)})` }, gridcolor: GRID, zeroline: true,
        zerolinecolor: "#9aa5b1", range: this.xRange() };
      return layout;
    }
    const decades = Array.from({ length: -LOG_LOW + 1 }, (_, i) => LOG_LOW + i);
    const threshold = Math.log10(sparsityThreshold());
    const range = this.xRange();
    // The threshold's label on the side with room (it would run out of a narrow chart on the right).
    const right = (threshold - range[0]) / (range[1] - range[0]) > 0.55;
    layout.xaxis = { title: { text: "|w| (log scale)" }, gridcolor: GRID, zeroline: false, range,
      tickmode: "array", tickvals: decades, ticktext: decades.map((k) => (k === 0 ? "1" : fmtPow10(10 ** k))) };
    layout.shapes = [{ type: "line", xref: "x", yref: "paper", x0: threshold, x1: threshold, y0: 0, y1: 1,
      line: { color: "#b42318", width: 1.5, dash: "dash" } }];
    layout.annotations = [...layout.annotations, { text: `sparsity threshold ${fmtPow10(sparsityThreshold())}`,
      xref: "x", yref: "paper", x: threshold, y: 1, xanchor: right ? "right" : "left", yanchor: "top", xshift: right ? -4 : 4,
      showarrow: false, bgcolor: "rgba(255,255,255,0.8)",
      font: { size: 11, color: "#b42318" } }];
    return layout;
  }
}
