// One run's loss split into its data part (cross-entropy) and its penalty part, stacked so the
// top edge is the total: per batch (smoothed as the loss per batch is, raw total faint) and per
// epoch (with the test loss, data only). SVG; the per-batch view is downsampled (M4).

import { Smoother } from "../smoothing.js";
import { Chart, GRID, epochTicks, finiteOrNull, quantileRange, rangeOrAuto } from "./base.js";
import { MAX_VIEW_POINTS, MinMaxDecimator } from "./decimate.js";

const DATA = { line: { color: "#4e79a7", width: 1.5 }, fillcolor: "rgba(78,121,167,0.45)" };
const PENALTY = { line: { color: "#f28e2b", width: 1.5 }, fillcolor: "rgba(242,142,43,0.5)" };

export class LossPartsBatchChart extends Chart {
  constructor(el, { smoothing = 0.6 } = {}) {
    super(el);
    this.smoothing = smoothing;
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
    return this.x.length ? null : this.waiting("Waiting for data…");
  }

  pointCount() {
    return this.x.length;
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
        stackgroup: "parts", ...DATA, hovertemplate: "step %{x}<br>data loss %{y:.4f}<extra></extra>",
      },
      {
        type: "scatter", mode: "lines", uid: "penalty", name: "penalty (λ part)", x: xs, y: at(this.sPen),
        stackgroup: "parts", ...PENALTY, customdata: at(this.sTotal),
        hovertemplate: "step %{x}<br>penalty %{y:.4f}<br>total %{customdata:.4f}<extra></extra>",
      },
    ];
  }

  layout() {
    return {
      ...this.baseLayout(),
      hovermode: "x unified",
      xaxis: { title: { text: "step (SGD batches)" }, gridcolor: GRID, zeroline: false, rangemode: "tozero" },
      yaxis: {
        title: { text: "loss (nats): data + penalty" }, gridcolor: GRID, zeroline: false, rangemode: "tozero",
        ...rangeOrAuto(this.fitQuantiles ? quantileRange(this.total) : null),
      },
    };
  }
}

export class LossPartsEpochChart extends Chart {
  constructor(el) {
    super(el, { pace: "epoch" });
    this.x = [];
    this.data = [];
    this.pen = [];
    this.test = [];
  }

  note() {
    return this.x.length ? null : this.waiting("Waiting for the first epoch…");
  }

  pointCount() {
    return this.x.length;
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

  traces() {
    const totals = this.x.map((_, i) => (this.data[i] === null || this.pen[i] === null ? null : this.data[i] + this.pen[i]));
    const common = { type: "scatter", mode: "lines+markers", x: this.x, marker: { size: 5 } };
    return [
      { ...common, uid: "data", name: "train data loss", y: this.data, stackgroup: "parts", ...DATA,
        hovertemplate: "data loss %{y:.4f}<extra></extra>" },
      { ...common, uid: "penalty", name: "penalty", y: this.pen, stackgroup: "parts", ...PENALTY, customdata: totals,
        hovertemplate: "penalty %{y:.4f}<br>train loss (total) %{customdata:.4f}<extra></extra>" },
      { ...common, uid: "test", name: "test loss (data only)", y: this.test,
        line: { color: "#1f2933", width: 1.5, dash: "dot" }, marker: { size: 5, symbol: "diamond" },
        hovertemplate: "test loss %{y:.4f}<extra></extra>" },
    ];
  }

  layout() {
    const all = [...this.x.map((_, i) => (this.data[i] ?? 0) + (this.pen[i] ?? 0)), ...this.test];
    return {
      ...this.baseLayout(),
      hovermode: "x unified",
      xaxis: {
        title: { text: "epoch" }, gridcolor: GRID, zeroline: false, rangemode: "nonnegative",
        ...epochTicks(this.x.length ? this.x[this.x.length - 1] : 0),
      },
      yaxis: {
        title: { text: "loss (nats), mean over the epoch" }, gridcolor: GRID, zeroline: false, rangemode: "tozero",
        ...rangeOrAuto(this.fitQuantiles ? quantileRange(all) : null),
      },
    };
  }
}
