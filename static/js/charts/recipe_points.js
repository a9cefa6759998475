// A recipe claim's own chart: the points the server computed for it (GET /api/studies/<id>'s
// recipe.claims[i].points), one line per series with ± 1 sd error bars: Ng's held-out error against
// the noise features appended, Han's pruning curves. The axes' titles and kind come with the claim.
// The container carries data-points (points drawn) and data-series.

import { fmtG, fmtPct, num } from "../format.js";
import { Chart, GRID, plotlyText } from "./base.js";

const COLORS = ["#e15759", "#4e79a7", "#59a14f", "#f28e2b"];

export class PointsChart extends Chart {
  constructor(el) {
    super(el, { offScreen: true });
    this.claim = null;
    this.signature = null;
  }

  // claim: one entry of recipe.claims, with points and axes.
  set(claim) {
    const signature = JSON.stringify([claim.points, claim.axes]);
    if (signature === this.signature) return;
    this.signature = signature;
    this.claim = claim;
    this.schedule();
  }

  ready() {
    return !!this.claim;
  }

  series() {
    const names = [];
    for (const p of this.claim.points) if (!names.includes(p.series)) names.push(p.series);
    return names;
  }

  xValue(x) {
    return this.claim.axes.x_type === "category" ? fmtG(x, 6).replace(/\B(?=(\d{3})+(?!\d))/g, " ") : num(x);
  }

  traces() {
    return this.series().map((name, i) => {
      const points = this.claim.points.filter((p) => p.series === name);
      const label = plotlyText(name);
      return {
        type: "scatter", mode: "lines+markers", name: label, uid: `series-${i}`,
        x: points.map((p) => this.xValue(p.x)), y: points.map((p) => num(p.y)),
        error_y: { type: "data", array: points.map((p) => num(p.sd) || 0), visible: true, thickness: 1.5, width: 4 },
        customdata: points.map((p) => [fmtPct(p.y, 2), fmtPct(p.sd, 2), p.n, (p.lams || []).map((v) => fmtG(v, 3)).join(", ")]),
        line: { color: COLORS[i % COLORS.length], width: 2 }, marker: { color: COLORS[i % COLORS.length], size: 8 },
        hovertemplate: `${label}: %{customdata[0]} ± %{customdata[1]} (sd, n = %{customdata[2]})` +
          (points.some((p) => p.lams) ? "<br>λ chosen: %{customdata[3]}" : "") + "<extra></extra>",
      };
    });
  }

  layout() {
    const { axes } = this.claim;
    return {
      ...this.baseLayout(),
      margin: { l: 64, r: 16, t: 8, b: 52 },
      xaxis: { title: { text: plotlyText(axes.x) }, type: axes.x_type === "category" ? "category" : "linear",
        gridcolor: GRID, zeroline: false },
      yaxis: { title: { text: plotlyText(axes.y) }, tickformat: ".0%", gridcolor: GRID, zeroline: false },
    };
  }

  afterDraw() {
    Object.assign(this.el.dataset, { points: String(this.claim.points.length), series: this.series().join(",") });
  }
}
