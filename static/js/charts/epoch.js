// Per-epoch curves of one or more runs: train loss (data + penalty) solid, its penalty part
// dashed, test accuracy dotted on the right axis; the legend names the runs (colours) and the three
// line styles. The accuracy axis fits the accuracies (89.7 % and 90.8 % apart, not both at the top
// of 0–100 %), or shows the full range on request. SVG (a few points per run), redrawn at most
// once a second.

import { GRID, SeriesChart, epochTicks, finiteOrNull, quantileRange, rangeOrAuto, runName } from "./base.js";

// Legend entries that say which line style is which (drawn nowhere: no points).
const STYLE_KEYS = [["solid", "train loss (data + penalty)", 2], ["dash", "its penalty part", 1.5],
  ["dot", "test accuracy (right axis)", 2]];
const styleKey = ([dash, name, width]) => ({
  type: "scatter", mode: "lines", uid: `style-${dash}`, name, x: [null], y: [null], legendgroup: "styles",
  line: { color: "#52606d", width, dash }, hoverinfo: "skip",
});

export class EpochChart extends SeriesChart {
  constructor(el) {
    super(el, { pace: "epoch" });
    this.fullAccuracy = false;
  }

  setFullAccuracy(on) {
    this.fullAccuracy = on;
    this.schedule();
  }

  // The accuracy axis: from 0 to 100 %, or around the accuracies shown (a margin each side).
  accuracyAxis() {
    const all = [];
    for (const s of this.runs.values()) for (const v of s.acc) if (v !== null) all.push(v);
    if (this.fullAccuracy || !all.length) return { range: [0, 1.02], tickformat: ".0%" };
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    const pad = Math.max(0.005, 0.12 * (hi - lo));
    return { range: [Math.max(0, lo - pad), Math.min(1.005, hi + pad)], tickformat: hi - lo < 0.1 ? ".1%" : ".0%" };
  }

  newSeries(key, info) {
    return { ...super.newSeries(key, info), loss: [], penalty: [], acc: [] };
  }

  append(id, epoch) {
    const series = this.runs.get(String(id));
    if (!series || !epoch || !epoch.epoch || !epoch.epoch.length) return;
    for (let i = 0; i < epoch.epoch.length; i++) {
      series.x.push(epoch.epoch[i]);
      series.loss.push(finiteOrNull(epoch.train_loss && epoch.train_loss[i]));
      series.penalty.push(finiteOrNull(epoch.penalty && epoch.penalty[i]));
      series.acc.push(finiteOrNull(epoch.test_accuracy && epoch.test_accuracy[i]));
    }
    this.updateCount();
    this.schedule();
  }

  lossRange() {
    const all = [];
    for (const s of this.runs.values()) all.push(...s.loss, ...s.penalty);
    return quantileRange(all);
  }

  maxEpoch() {
    let max = 0;
    for (const s of this.runs.values()) if (s.x.length) max = Math.max(max, s.x[s.x.length - 1]);
    return max;
  }

  traces() {
    const out = [];
    for (const s of this.runs.values()) {
      const name = runName(s.id, s.label);
      const common = { type: "scatter", mode: "lines+markers", legendgroup: s.id, x: s.x, marker: { size: 5 } };
      out.push({
        ...common, uid: `loss-${s.id}`, name, y: s.loss, line: { color: s.color, width: 2 },
        hovertemplate: "epoch %{x}<br>train loss %{y:.4f}<extra>%{fullData.name}</extra>",
      });
      out.push({
        ...common, uid: `pen-${s.id}`, name: `${name} penalty`, showlegend: false, y: s.penalty,
        line: { color: s.color, width: 1.5, dash: "dash" }, marker: { size: 4 },
        hovertemplate: "epoch %{x}<br>penalty part %{y:.4f}<extra>#" + s.id + "</extra>",
      });
      out.push({
        ...common, uid: `acc-${s.id}`, name: `${name} test accuracy`, showlegend: false, y: s.acc, yaxis: "y2",
        line: { color: s.color, width: 2, dash: "dot" }, marker: { size: 6, symbol: "diamond" },
        hovertemplate: "epoch %{x}<br>test accuracy %{y:.2%}<extra>#" + s.id + "</extra>",
      });
    }
    if (out.length) out.push(...STYLE_KEYS.map(styleKey));
    return out;
  }

  layout() {
    return {
      ...this.baseLayout(),
      margin: { l: 64, r: 64, t: 12, b: 48 },
      xaxis: { title: { text: "epoch" }, gridcolor: GRID, zeroline: false, rangemode: "nonnegative", ...epochTicks(this.maxEpoch()) },
      yaxis: {
        title: { text: "loss (nats)" }, gridcolor: GRID, zeroline: false, rangemode: "tozero",
        ...(this.fitQuantiles ? rangeOrAuto(this.lossRange()) : {}),
      },
      yaxis2: {
        title: { text: "test accuracy" }, overlaying: "y", side: "right", showgrid: false, zeroline: false,
        autorange: false, ...this.accuracyAxis(),
      },
    };
  }
}
