// Runs' weights epoch by epoch: ‖W‖₁, ‖W‖₂ and the share of near-zero weights per layer (and
// over all for sparsity). One run: a colour per layer; several: a colour per run and a line
// style per layer. The per-epoch weight summaries are kept once (WeightHistory) for all three
// charts and the histograms.

import { fmtPow10 } from "../format.js";
import { sparsityThreshold } from "../schema.js";
import { Chart, GRID, epochTicks, finiteOrNull, runName } from "./base.js";

const LAYER_COLORS = ["#4e79a7", "#e15759", "#59a14f", "#b07aa1"];
const LAYER_DASH = ["solid", "dash", "dot", "dashdot"];

function metricSpec(metric) {
  switch (metric) {
    case "l1": return { title: "‖W‖₁ = Σ|w| (per layer)", format: ".4g", note: "‖W‖₁" };
    case "l2": return { title: "‖W‖₂ = √Σw² (per layer)", format: ".4g", note: "‖W‖₂" };
    default: return { title: `weights with |w| < ${fmtPow10(sparsityThreshold())} (%)`, format: ".2%", note: "sparsity" };
  }
}

// Runs' per-epoch weight summaries (the epoch columns' `weights`).
export class WeightHistory {
  constructor() {
    this.runs = new Map(); // id → {id, label, color, epochs: [], overall: [], layers: Map(name → {l1, l2, sparsity, shape}), last}
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
      for (const w of stats) {
        if (!run.layers.has(w.name)) run.layers.set(w.name, { l1: [], l2: [], sparsity: [], shape: w.shape });
        const layer = run.layers.get(w.name);
        // A layer first seen late gets nulls for the epochs before, so the arrays stay aligned.
        while (layer.l1.length < run.epochs.length - 1) {
          layer.l1.push(null);
          layer.l2.push(null);
          layer.sparsity.push(null);
        }
        layer.l1.push(finiteOrNull(w.l1));
        layer.l2.push(finiteOrNull(w.l2));
        layer.sparsity.push(finiteOrNull(w.sparsity));
      }
      run.last = { epoch: epoch.epoch[i], weights: stats };
    }
    for (const fn of this.listeners) fn(run);
  }

  onChange(fn) {
    this.listeners.push(fn);
  }
}

export class WeightEpochChart extends Chart {
  constructor(el, history, metric) {
    super(el, { pace: "epoch" });
    this.history = history;
    this.metric = metric;
    history.onChange(() => {
      this.updateCount();
      this.schedule();
    });
  }

  note() {
    return [...this.history.runs.values()].some((r) => r.epochs.length) ? null : this.waiting("Waiting for the first epoch…");
  }

  pointCount() {
    let n = 0;
    for (const run of this.history.runs.values()) n += run.epochs.length;
    return n;
  }

  traces() {
    const runs = [...this.history.runs.values()];
    const single = runs.length === 1;
    const out = [];
    const spec = metricSpec(this.metric);
    for (const run of runs) {
      [...run.layers.entries()].forEach(([name, layer], i) => {
        const shape = layer.shape ? ` (${layer.shape.join("×")})` : "";
        out.push({
          type: "scatter", mode: "lines+markers", uid: `${run.id}-${name}`,
          name: single ? `${name}${shape}` : `#${run.id} ${name}`, legendgroup: single ? name : run.id,
          x: run.epochs, y: layer[this.metric], marker: { size: 5 },
          line: { color: single ? LAYER_COLORS[i % 4] : run.color, width: 2, dash: single ? "solid" : LAYER_DASH[i % 4] },
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
    const spec = metricSpec(this.metric);
    const last = Math.max(0, ...[...this.history.runs.values()].map((r) => r.epochs[r.epochs.length - 1] || 0));
    return {
      ...this.baseLayout(),
      margin: { l: 64, r: 16, t: 12, b: 48 },
      xaxis: { title: { text: "epoch" }, gridcolor: GRID, zeroline: false, ...epochTicks(last) },
      yaxis: {
        title: { text: spec.title }, gridcolor: GRID, zeroline: false, rangemode: "tozero",
        ...(this.metric === "sparsity" ? { tickformat: ".1%" } : {}),
      },
    };
  }
}
