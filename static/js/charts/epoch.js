// Per-epoch curves of one or more runs: train loss (data + penalty) solid, its penalty part
// dashed, test accuracy dotted on the right axis. SVG (a few points per run), redrawn at most
// once a second.

import { GRID, SeriesChart, epochTicks, finiteOrNull, quantileRange, rangeOrAuto, runName } from "./base.js";

export class EpochChart extends SeriesChart {
  constructor(el) {
    super(el, { pace: "epoch" });
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
        title: { text: "test accuracy" }, overlaying: "y", side: "right", range: [0, 1.02],
        tickmode: "linear", tick0: 0, dtick: 0.2, tickformat: ".0%", showgrid: false, zeroline: false,
      },
    };
  }
}
