// Which inputs the network still looks at: each input pixel's total outgoing first-layer weight
// Σⱼ|W1[i, j]| (the server's `input_importance`, 784 values, row-major) as one 28 × 28 image on a
// log colour scale, the colour bar labelled in the values themselves. Pages that show several
// runs side by side give every image the same range (importanceRange), so colours compare.
//
// data-points: pixels drawn (784); data-dead: the server's count of dead inputs.

import { fmtG, fmtPow10 } from "../format.js";
import { Chart, plotlyText } from "./base.js";

const SIDE = 28;
// Below this share of the largest value a pixel is drawn as the floor colour: a log scale
// would otherwise spend its whole range on values no one can tell from zero.
const FLOOR_RATIO = 1e-6;
const COLORSCALE = "Viridis";

// The log10 range covering every run's values (null values and zeros left out), shared by the
// images drawn side by side.
export function importanceRange(valueLists) {
  let hi = 0;
  let lo = Infinity;
  for (const values of valueLists) {
    for (const v of values || []) {
      const x = Number(v);
      if (x > 0) {
        hi = Math.max(hi, x);
        lo = Math.min(lo, x);
      }
    }
  }
  if (!(hi > 0)) return null;
  lo = Math.max(lo, hi * FLOOR_RATIO);
  const range = [Math.log10(lo), Math.log10(hi)];
  if (range[1] - range[0] < 0.1) range[0] = range[1] - 0.1; // all alike: still a scale
  return range;
}

export class InputImportanceChart extends Chart {
  constructor(el, { name = "" } = {}) {
    super(el, { pace: "epoch" });
    this.name = name; // plain text: the run, for the hover
    this.values = null;
    this.range = null;
    this.loaded = false;
  }

  // values: 784 numbers (or null: nothing to show); dead: the server's dead input count.
  set(values, dead) {
    this.values = Array.isArray(values) && values.length === SIDE * SIDE ? values.map(Number) : null;
    this.loaded = true;
    this.el.dataset.dead = dead === null || dead === undefined ? "" : String(dead);
    if (!this.range) this.range = importanceRange([this.values]);
    this.updateCount();
    this.schedule();
  }

  // A log10 range shared with other images (importanceRange).
  setRange(range) {
    this.range = range;
    this.schedule();
  }

  ready() {
    return this.loaded;
  }

  pointCount() {
    return this.values ? this.values.length : 0;
  }

  note() {
    return this.values ? null : "No input importance stored for this run";
  }

  showLegend() {
    return false;
  }

  traces() {
    if (!this.values || !this.range) return [];
    const [lo] = this.range;
    const z = [];
    const raw = [];
    for (let r = 0; r < SIDE; r++) {
      const row = this.values.slice(r * SIDE, (r + 1) * SIDE);
      raw.push(row);
      z.push(row.map((v) => Math.max(lo, Math.log10(v > 0 ? v : 10 ** lo))));
    }
    const ticks = [];
    for (let k = Math.ceil(this.range[0]); k <= Math.floor(this.range[1]); k++) ticks.push(k);
    if (ticks.length < 2) ticks.splice(0, ticks.length, this.range[0], this.range[1]);
    return [{
      type: "heatmap", uid: "importance", z, customdata: raw, zmin: this.range[0], zmax: this.range[1],
      colorscale: COLORSCALE, xgap: 0, ygap: 0,
      // Under the image, so the image gets the card's whole width.
      colorbar: {
        title: { text: "Σⱼ|W1[i, j]| (log scale)", side: "bottom" }, orientation: "h", thickness: 10, len: 1,
        x: 0.5, xanchor: "center", y: -0.2, yanchor: "top",
        tickvals: ticks, ticktext: ticks.map((k) => (Number.isInteger(k) ? fmtPow10(10 ** k) : fmtG(10 ** k, 2))),
      },
      hovertemplate: `pixel row %{y}, column %{x}<br>Σⱼ|W1[i, j]| = %{customdata:.3g}<extra>${plotlyText(this.name)}</extra>`,
    }];
  }

  layout() {
    const axis = { showgrid: false, zeroline: false, tickmode: "linear", tick0: 0, dtick: 7, constrain: "domain" };
    return {
      ...this.baseLayout(),
      margin: { l: 48, r: 12, t: 8, b: 110 },
      xaxis: { ...axis, title: { text: "input pixel column" }, range: [-0.5, SIDE - 0.5] },
      yaxis: { ...axis, title: { text: "input pixel row" }, autorange: "reversed", scaleanchor: "x" },
    };
  }
}
