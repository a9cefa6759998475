// A regularisation path for the network, lasso-path style: per penalty, each hidden unit's
// ‖W1[:, j]‖₂ against λ, one line per rank (rank 1 the largest norm at each λ, the server's
// `regularisation_path`: per setting the mean over its runs of each run's sorted norms). Units
// switching off as λ grows are lines falling to the floor. The no-penalty setting has no λ: its
// norms are the grey ticks at the left edge.
//
// data-points: (rank, λ) points drawn, no-penalty ticks excluded; data-penalties; data-ranks.

import { fmtG, num, penaltyLabel } from "../format.js";
import { penaltyInfo, penalties } from "../schema.js";
import { Chart, GRID, plotlyText } from "./base.js";
import { lambdaRange } from "./tradeoff.js";

export class RegPathChart extends Chart {
  constructor(el) {
    super(el, { offScreen: true });
    this.path = null;
    this.signature = null;
  }

  // path: the study's `regularisation_path`.
  set(path) {
    const signature = JSON.stringify(path || []);
    if (signature === this.signature) return;
    this.signature = signature;
    this.path = (path || []).filter((s) => Array.isArray(s.unit_norms) && s.unit_norms.length);
    this.updateCount();
    this.schedule();
  }

  ready() {
    return Array.isArray(this.path);
  }

  penalized() {
    return this.path.filter((s) => s.penalty !== "none" && num(s.lam) > 0);
  }

  pointCount() {
    return this.path ? this.penalized().reduce((n, s) => n + s.unit_norms.length, 0) : 0;
  }

  updateCount() {
    super.updateCount();
    const rows = this.path ? this.penalized() : [];
    this.el.dataset.penalties = [...new Set(rows.map((s) => s.penalty))].join(",");
    this.el.dataset.ranks = String(Math.max(0, ...rows.map((s) => s.unit_norms.length)));
  }

  note() {
    return this.penalized().length ? null : "Waiting for finished runs with a penalty…";
  }

  showLegend() {
    return this.penalized().length > 0;
  }

  range() {
    return lambdaRange(this.penalized().map((s) => num(s.lam)));
  }

  // One trace per penalty: each rank's line over λ, lines separated by gaps.
  traces() {
    const traces = [];
    const base = this.path.find((s) => s.penalty === "none");
    const range = this.range();
    if (base) {
      const { color } = penaltyInfo("none");
      const at = 10 ** (range[0] + 0.12);
      traces.push({
        type: "scatter", mode: "markers", uid: "none", name: `${plotlyText(penaltyLabel("none"))} (no λ): its norms`,
        x: base.unit_norms.map(() => at), y: base.unit_norms.map(num),
        customdata: base.unit_norms.map((_, r) => [r + 1, base.unit_norms.length]),
        marker: { symbol: "line-ew-open", size: 12, color, line: { width: 2, color } },
        hovertemplate: "no penalty, rank %{customdata[0]} of %{customdata[1]}: ‖W1[:, j]‖₂ = %{y:.3g}<extra></extra>",
      });
    }
    const present = penalties().map((p) => p.name).filter((p) => this.penalized().some((s) => s.penalty === p));
    for (const penalty of present) {
      const rows = this.penalized().filter((s) => s.penalty === penalty).sort((a, b) => num(a.lam) - num(b.lam));
      const ranks = Math.max(...rows.map((s) => s.unit_norms.length));
      const x = [];
      const y = [];
      const custom = [];
      for (let r = 0; r < ranks; r++) {
        for (const s of rows) {
          x.push(num(s.lam));
          y.push(r < s.unit_norms.length ? num(s.unit_norms[r]) : null);
          custom.push([r + 1, ranks, fmtG(s.lam, 3), s.runs]);
        }
        x.push(null);
        y.push(null);
        custom.push(null);
      }
      const { color, label } = penaltyInfo(penalty);
      traces.push({
        type: "scatter", mode: "lines+markers", uid: `path-${penalty}`, name: `${plotlyText(label)}: one line per rank`,
        x, y, customdata: custom, connectgaps: false, line: { color, width: 1.2 }, marker: { color, size: 4 }, opacity: 0.8,
        hovertemplate: `${plotlyText(label)} λ=%{customdata[2]}, rank %{customdata[0]} of %{customdata[1]}` +
          "<br>‖W1[:, j]‖₂ = %{y:.3g} (mean over %{customdata[3]} runs)<extra></extra>",
      });
    }
    return traces;
  }

  layout() {
    const range = this.range();
    return {
      ...this.baseLayout(),
      margin: { l: 64, r: 16, t: 12, b: 52 },
      xaxis: {
        title: { text: "λ (penalty strength, log scale)" }, type: "log", range, autorange: false,
        gridcolor: GRID, zeroline: false, exponentformat: "power", ...(range[1] - range[0] >= 2 ? { dtick: 1 } : {}),
      },
      yaxis: { title: { text: "‖W1[:, j]‖₂ per hidden unit, sorted" }, gridcolor: GRID, zeroline: false, rangemode: "tozero" },
    };
  }
}
