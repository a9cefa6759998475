// Pruning curves: test accuracy after the smallest-|w| fraction p of the weights is set to zero
// (no retraining), over all layers together ("global") and in the first layer alone, as the run's
// GET /api/runs/<id>/pruning answers them; optionally the curves fine-tuned with the mask held.
// Each curve's prunable fraction (the server's: the largest p within one point of the unpruned
// run) is a diamond on it. One run: a line style per scope; several: a colour per run.
//
// data-points: curve points drawn; data-curves: curves drawn.

import { fmtPct } from "../format.js";
import { Chart, GRID, finiteOrNull, plotlyText } from "./base.js";

const SCOPES = {
  global: { label: "all layers (global)", short: "global", dash: "solid" },
  first_layer: { label: "first layer alone", short: "first layer", dash: "dash" },
};
const SCOPE_COLORS = { global: "#4e79a7", first_layer: "#e15759" };

export class PruningChart extends Chart {
  // scopes: which curves of each run to draw ("global", "first_layer").
  constructor(el, { scopes = ["global", "first_layer"] } = {}) {
    super(el, { pace: "epoch" });
    this.scopes = scopes;
    this.runs = []; // [{id, name, color, curve}]
    this.fineTuned = false;
    this.loaded = false;
  }

  // runs: [{id, name (plain text), color, curve: the /pruning answer}], in legend order.
  set(runs) {
    this.runs = runs.filter((r) => r.curve && Array.isArray(r.curve.fractions));
    this.loaded = true;
    this.updateCount();
    this.schedule();
  }

  setFineTuned(on) {
    this.fineTuned = on;
    this.updateCount();
    this.schedule();
  }

  hasFineTuned() {
    return this.runs.some((r) => r.curve.fine_tuned);
  }

  ready() {
    return this.loaded;
  }

  // [{run, scope, curve (plain or fine-tuned), tuned}] in drawing order.
  curves() {
    const out = [];
    for (const run of this.runs) {
      for (const scope of this.scopes) {
        out.push({ run, scope, curve: run.curve, tuned: false });
        if (this.fineTuned && run.curve.fine_tuned) out.push({ run, scope, curve: run.curve.fine_tuned, tuned: true });
      }
    }
    return out.filter(({ curve, scope }) => curve.accuracy && Array.isArray(curve.accuracy[scope]));
  }

  pointCount() {
    return this.curves().reduce((n, { curve, scope }) => n + curve.accuracy[scope].length, 0);
  }

  updateCount() {
    super.updateCount();
    this.el.dataset.curves = String(this.curves().length);
  }

  note() {
    return this.runs.length ? null : "No pruning curve to show yet";
  }

  showLegend() {
    return this.runs.length > 0;
  }

  traces() {
    const single = this.runs.length === 1;
    const traces = [];
    for (const { run, scope, curve, tuned } of this.curves()) {
      const spec = SCOPES[scope];
      const color = single ? SCOPE_COLORS[scope] : run.color;
      const what = `${spec.label}${tuned ? `, fine-tuned ${curve.steps} steps` : ""}`;
      const name = single ? what : `${plotlyText(run.name)} · ${spec.short}${tuned ? " fine-tuned" : ""}`;
      const x = curve.fractions.map(finiteOrNull);
      const y = curve.accuracy[scope].map(finiteOrNull);
      const group = single ? scope : String(run.id);
      traces.push({
        type: "scatter", mode: "lines+markers", uid: `${run.id}-${scope}${tuned ? "-tuned" : ""}`, name, legendgroup: group,
        x, y, line: { color, width: 2, dash: tuned ? "dot" : spec.dash }, marker: { color, size: 5 },
        hovertemplate: `pruned %{x:.0%} → test accuracy %{y:.2%}<extra>${plotlyText(run.name)}<br>${what}</extra>`,
      });
      const p = finiteOrNull(curve.prunable_fraction && curve.prunable_fraction[scope]);
      const at = x.indexOf(p);
      if (p !== null && at >= 0) {
        traces.push({
          type: "scatter", mode: "markers", uid: `${run.id}-${scope}${tuned ? "-tuned" : ""}-prunable`,
          name: `prunable: ${fmtPct(p, 0)}`, legendgroup: group, showlegend: false,
          x: [p], y: [y[at]], marker: { symbol: "diamond", size: 12, color, line: { color: "#1f2933", width: 1 } },
          hovertemplate: `prunable fraction ${fmtPct(p, 0)} (${what}): the largest p within 1 point of the unpruned accuracy` +
            `<extra>${plotlyText(run.name)}</extra>`,
        });
      }
    }
    return traces;
  }

  layout() {
    const layout = this.baseLayout();
    const single = this.runs.length === 1;
    return {
      ...layout,
      // One run: the legend names the curves, its title the run (its penalty and λ).
      legend: { ...layout.legend, ...(single ? { title: { text: plotlyText(this.runs[0].name), side: "top" } } : {}) },
      margin: { l: 64, r: 16, t: 12, b: 52 },
      xaxis: {
        title: { text: "fraction pruned p (% of weights)" }, tickformat: ".0%",
        range: [-0.02, 1.01], gridcolor: GRID, zeroline: false,
      },
      yaxis: { title: { text: "test accuracy after pruning (%)" }, tickformat: ".0%", gridcolor: GRID, zeroline: false },
    };
  }
}

