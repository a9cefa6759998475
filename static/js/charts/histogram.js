// Each layer's weight histogram at the latest epoch (the final one once the run ended), runs
// overlaid: fixed bins, log-scaled counts, the x axis on the bins that hold weights.

import { fmtG } from "../format.js";
import { Chart, GRID, runName } from "./base.js";

// engine/metrics.py: HIST_EDGES = 80 equal bins over [-1, 1]; values outside go to the end bins.
const HIST_BINS = 80;
const HIST_LOW = -1;
const HIST_HIGH = 1;
const BIN = (HIST_HIGH - HIST_LOW) / HIST_BINS;

export const BIN_CENTRES = Array.from({ length: HIST_BINS }, (_, i) => HIST_LOW + (i + 0.5) * BIN);

function binLabel(i) {
  const a = HIST_LOW + i * BIN;
  const b = a + BIN;
  if (i === 0) return `w < ${fmtG(b, 3)}`;
  if (i === HIST_BINS - 1) return `w ≥ ${fmtG(a, 3)}`;
  return `${fmtG(a, 3)} ≤ w < ${fmtG(b, 3)}`;
}

export class HistogramChart extends Chart {
  constructor(el, history, layer) {
    super(el, { pace: "epoch" });
    this.history = history;
    this.layer = layer;
    this.overlay = null;
    history.onChange(() => {
      this.updateCount();
      this.schedule();
    });
  }

  // Extra traces drawn over the bars, or null: overlay(shown) → traces (e.g. charts/prior_overlay.js).
  setOverlay(overlay) {
    this.overlay = overlay;
    this.schedule();
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

  pointCount() {
    return this.shown().length * HIST_BINS;
  }

  updateCount() {
    super.updateCount();
    this.el.dataset.traces = String(this.shown().length);
  }

  traces() {
    const shown = this.shown();
    const single = shown.length === 1;
    const bars = shown.map(({ run, w, epoch }) => {
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
    return this.overlay ? [...bars, ...this.overlay(shown)] : bars;
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
