// The study's paired comparisons as a forest plot: per setting (one row each, in the server's
// display order, top to bottom) the mean difference in test accuracy against no penalty, seed by
// seed, with its paired 95 % interval, and behind it, wide and pale, the unpaired (Welch)
// interval of the same runs, so the eye sees what pairing buys. A vertical line marks zero: an
// interval that crosses it is no evidence of a difference. Settings with fewer than 3 pairs
// carry the server's note in place of a point.
//
// data-points: settings drawn with an interval; data-rows: rows; data-untestable: rows with the note.

import { fmtP, fmtPointsInterval, fmtSignedPoints, num, settingText } from "../format.js";
import { penaltyInfo } from "../schema.js";
import { Chart, GRID, plotlyText } from "./base.js";

const POINTS = 100; // differences are fractions of accuracy; the axis is in percentage points
const ZERO_LINE = "#1f2933";

const pts = (v) => num(v) * POINTS;

export class ForestChart extends Chart {
  constructor(el) {
    super(el, { offScreen: true });
    this.rows = null;
    this.signature = null;
  }

  // comparisons: the study's `comparisons` (or any list of the same objects).
  set(comparisons) {
    const signature = JSON.stringify(comparisons || []);
    if (signature === this.signature) return;
    this.signature = signature;
    // Against no penalty (the study's comparisons) a row is named by its setting alone.
    this.rows = (comparisons || []).map((c) => ({
      ...c,
      label: c.baseline_penalty === "none" ? settingText(c.penalty, c.lam)
        : `${settingText(c.penalty, c.lam)} − ${settingText(c.baseline_penalty, c.baseline_lam)}`,
    }));
    this.updateCount();
    this.schedule();
  }

  ready() {
    return Array.isArray(this.rows);
  }

  testable() {
    return this.rows.filter((c) => c.testable);
  }

  pointCount() {
    return this.rows ? this.testable().length : 0;
  }

  updateCount() {
    super.updateCount();
    const rows = this.rows || [];
    this.el.dataset.rows = String(rows.length);
    this.el.dataset.untestable = String(rows.filter((c) => !c.testable).length);
  }

  note() {
    return this.rows.length ? null : "No comparison yet: it needs finished no-penalty runs and penalized runs of the same seeds";
  }

  showLegend() {
    return this.testable().length > 0;
  }

  // Row i sits at y = −i, so the first setting is on top.
  traces() {
    const traces = [];
    const unpaired = { x: [], y: [] };
    for (const [i, c] of this.rows.entries()) {
      if (!c.testable) continue;
      unpaired.x.push(pts(c.ci95_unpaired[0]), pts(c.ci95_unpaired[1]), null);
      unpaired.y.push(-i, -i, null);
    }
    if (unpaired.x.length) {
      traces.push({
        type: "scatter", mode: "lines", uid: "unpaired", name: "unpaired 95 % CI (Welch, same runs)",
        x: unpaired.x, y: unpaired.y, line: { color: "rgba(97,110,124,0.28)", width: 10 },
        hovertemplate: "unpaired 95 % CI end: %{x:+.2f} pp<extra></extra>",
      });
    }
    const penalties = [...new Set(this.rows.filter((c) => c.testable).map((c) => c.penalty))];
    for (const penalty of penalties) {
      const rows = [...this.rows.entries()].filter(([, c]) => c.testable && c.penalty === penalty);
      const { color, label } = penaltyInfo(penalty);
      traces.push({
        type: "scatter", mode: "markers", uid: `paired-${penalty}`, name: `${plotlyText(label)}: mean difference, paired 95 % CI`,
        x: rows.map(([, c]) => pts(c.mean_diff)), y: rows.map(([i]) => -i),
        error_x: {
          type: "data", symmetric: false, visible: true, color, thickness: 2, width: 6,
          array: rows.map(([, c]) => pts(c.ci95_paired[1]) - pts(c.mean_diff)),
          arrayminus: rows.map(([, c]) => pts(c.mean_diff) - pts(c.ci95_paired[0])),
        },
        marker: { color, size: 10, symbol: "square" },
        customdata: rows.map(([, c]) => [plotlyText(c.label), fmtSignedPoints(c.mean_diff), fmtPointsInterval(c.ci95_paired),
          fmtPointsInterval(c.ci95_unpaired), fmtP(c.p_holm), c.n_pairs]),
        hovertemplate: "%{customdata[0]}: %{customdata[1]}<br>paired 95 % CI %{customdata[2]} (n = %{customdata[5]} seeds)" +
          "<br>unpaired 95 % CI %{customdata[3]}<br>p (Holm) %{customdata[4]}<extra></extra>",
      });
    }
    return traces;
  }

  layout() {
    const n = this.rows.length;
    const layout = this.baseLayout();
    const notes = [...this.rows.entries()].filter(([, c]) => !c.testable).map(([i, c]) => ({
      text: plotlyText(c.note || "no test is possible"), x: 0, xref: "x", y: -i, yref: "y", xanchor: "left", xshift: 8,
      showarrow: false, font: { size: 11, color: "#7b8794" },
    }));
    // The paired intervals and zero set the scale; wider unpaired ones run off its edges (the table has them).
    const xs = [0, ...this.testable().flatMap((c) => c.ci95_paired.map(pts)).filter(Number.isFinite)];
    const pad = Math.max(0.5, Math.max(...xs) - Math.min(...xs)) * 0.12;
    return {
      ...layout,
      margin: { l: 96, r: 16, t: 12, b: 52 },
      annotations: [...layout.annotations, ...notes],
      shapes: [{ type: "line", name: "zero", xref: "x", yref: "paper", x0: 0, x1: 0, y0: 0, y1: 1,
        line: { color: ZERO_LINE, width: 1.5, dash: "dash" } }],
      xaxis: {
        title: { text: "accuracy difference (points)" }, gridcolor: GRID, zeroline: false, automargin: true,
        range: [Math.min(...xs) - pad, Math.max(...xs) + pad],
      },
      yaxis: {
        tickmode: "array", tickvals: this.rows.map((_, i) => -i), ticktext: this.rows.map((c) => plotlyText(c.label)),
        range: [-n + 0.5, 0.5], gridcolor: GRID, zeroline: false, automargin: true,
      },
    };
  }
}
