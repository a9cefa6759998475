// The confusion matrix of the test set as a heatmap: rows the true class, columns the predicted
// one, coloured by the share of the true class. Nothing is drawn before set(matrix); data-cells
// and data-total say what was drawn.

import { Chart } from "./base.js";

export class ConfusionChart extends Chart {
  constructor(el) {
    super(el, { pace: "epoch" });
    this.rows = null;
  }

  set(matrix) {
    if (!Array.isArray(matrix) || !matrix.length) return;
    this.rows = matrix.map((row) => row.map(Number));
    this.schedule();
  }

  ready() {
    return !!this.rows;
  }

  traces() {
    const rows = this.rows;
    const rowTotals = rows.map((row) => row.reduce((a, b) => a + b, 0) || 1);
    const share = rows.map((row, i) => row.map((c) => c / rowTotals[i]));
    const classes = rows.map((_, i) => String(i));
    const custom = rows.map((row, i) => row.map((c, j) => [c, share[i][j], rowTotals[i]]));
    return [{
      type: "heatmap", x: classes, y: classes, z: share, zmin: 0, zmax: 1,
      colorscale: [[0, "#ffffff"], [0.05, "#dbe9f6"], [0.3, "#6baed6"], [0.7, "#2171b5"], [1, "#08306b"]],
      colorbar: { title: { text: "share of the true class", side: "right" }, tickformat: ".0%", thickness: 12 },
      text: rows.map((row) => row.map(String)), texttemplate: "%{text}", textfont: { size: 11 },
      customdata: custom, xgap: 1, ygap: 1,
      hovertemplate: "true %{y} → predicted %{x}<br>%{customdata[0]} of %{customdata[2]} (%{customdata[1]:.1%})<extra></extra>",
    }];
  }

  layout() {
    return {
      ...this.baseLayout(),
      showlegend: false,
      margin: { l: 64, r: 16, t: 12, b: 52 },
      xaxis: { title: { text: "predicted class" }, side: "bottom", type: "category", constrain: "domain" },
      yaxis: { title: { text: "true class (rows: test images of that digit)" }, type: "category", autorange: "reversed",
        scaleanchor: "x", constrain: "domain" },
    };
  }

  afterDraw() {
    this.el.dataset.cells = String(this.rows.length * this.rows.length);
    this.el.dataset.total = String(this.rows.reduce((sum, row) => sum + row.reduce((a, b) => a + b, 0), 0));
  }
}
