// First-layer weights as images: each hidden unit's 784 incoming weights drawn as a 28×28
// picture on a <canvas>, a grid of units per run, one shared symmetric colour scale for every
// unit of every run on the page (so a paler picture really means smaller weights), a diverging
// colour map (blue negative, white zero, red positive) and a colour bar with the scale's value.
//
// Each grid's container gets data-images (units drawn), data-dead (dead units) and data-scale;
// the colour bar's container gets data-scale. Pointing at a pixel says which unit, which pixel
// and its weight.

import { el, setText } from "../dom.js";
import { fmtG, num } from "../format.js";

const SIDE = 28;
const GAP = 2; // canvas pixels between units
const GAP_RGB = [228, 231, 235];

// ColorBrewer RdBu (11 classes), reversed: index 0 is the most negative weight.
const RDBU = ["#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
  "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"];
const LUT_SIZE = 256;

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

// 256 colours interpolated linearly between the 11 stops: LUT[i] for t = i / 255 in [0, 1].
export const LUT = (() => {
  const stops = RDBU.map(hexToRgb);
  const out = new Uint8ClampedArray(LUT_SIZE * 3);
  for (let i = 0; i < LUT_SIZE; i++) {
    const pos = (i / (LUT_SIZE - 1)) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(pos));
    const f = pos - k;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(stops[k][c] + f * (stops[k + 1][c] - stops[k][c]));
  }
  return out;
})();

// The LUT index of weight w on the symmetric scale [-scale, +scale] (clipped at the ends).
export function colourIndex(w, scale) {
  if (!(scale > 0) || !Number.isFinite(w)) return (LUT_SIZE - 1) / 2;
  const t = Math.max(-1, Math.min(1, w / scale));
  return Math.round(((t + 1) / 2) * (LUT_SIZE - 1));
}

// The shared scale of several runs' first layers: max |w| ("max") or the 99th percentile of
// |w| ("p99", larger weights drawn at full colour), over every unit of every run.
export function sharedScale(layers, mode = "max") {
  let max = 0;
  let count = 0;
  for (const units of layers) {
    if (!units) continue;
    for (const unit of units) {
      for (const v of unit) {
        const a = Math.abs(v);
        if (a > max) max = a;
      }
      count += unit.length;
    }
  }
  if (mode !== "p99" || count === 0) return max;
  // The 99th percentile of |w|, from a histogram of 4096 bins over [0, max] (exact enough for a colour scale).
  const bins = new Uint32Array(4096);
  for (const units of layers) {
    if (!units) continue;
    for (const unit of units) {
      for (const v of unit) bins[Math.min(4095, Math.floor((Math.abs(v) / (max || 1)) * 4096))] += 1;
    }
  }
  const want = 0.99 * count;
  let seen = 0;
  for (let b = 0; b < bins.length; b++) {
    seen += bins[b];
    if (seen >= want) return ((b + 1) / 4096) * max;
  }
  return max;
}

// Columns of the grid for n units: wider than tall for one run, square-ish side by side.
export function gridColumns(n, { wide = true } = {}) {
  if (n <= 0) return 1;
  return Math.min(n, Math.ceil(Math.sqrt(n * (wide ? 2 : 1))));
}

// One run's grid of units on a canvas. `units` is the API's first_layer (one 784-list per unit).
class WeightGrid {
  constructor(container, { units, title, readout, wide = true, deadUnits = null }) {
    this.container = container;
    this.units = units || [];
    this.readout = readout;
    this.cols = gridColumns(this.units.length, { wide });
    this.rows = Math.ceil(this.units.length / this.cols);
    this.canvas = el("canvas", { class: "weight-canvas", role: "img" });
    this.canvas.width = Math.max(1, this.cols * (SIDE + GAP) - GAP);
    this.canvas.height = Math.max(1, this.rows * (SIDE + GAP) - GAP);
    this.canvas.setAttribute("aria-label", `${title}: ${this.units.length} hidden units as 28 × 28 images of their incoming weights`);
    // Never shown larger than 4 screen pixels per weight (a 16-unit grid would otherwise be huge).
    this.canvas.style.maxWidth = `${this.canvas.width * 4}px`;
    container.replaceChildren(this.canvas);
    container.dataset.images = String(this.units.length);
    // The server's count (from the unrounded weights); unknown for a run stored without it.
    container.dataset.dead = Number.isFinite(deadUnits) ? String(deadUnits) : "";
    this.canvas.addEventListener("mousemove", (event) => this.point(event));
    this.canvas.addEventListener("mouseleave", () => this.readout && setText(this.readout, ""));
  }

  draw(scale) {
    this.scale = scale;
    const ctx = this.canvas.getContext("2d");
    const image = ctx.createImageData(this.canvas.width, this.canvas.height);
    const px = image.data;
    for (let i = 0; i < px.length; i += 4) {
      px[i] = GAP_RGB[0];
      px[i + 1] = GAP_RGB[1];
      px[i + 2] = GAP_RGB[2];
      px[i + 3] = 255;
    }
    const width = this.canvas.width;
    this.units.forEach((unit, u) => {
      const x0 = (u % this.cols) * (SIDE + GAP);
      const y0 = Math.floor(u / this.cols) * (SIDE + GAP);
      for (let r = 0; r < SIDE; r++) {
        for (let c = 0; c < SIDE; c++) {
          const k = colourIndex(num(unit[r * SIDE + c]), scale) * 3;
          const at = ((y0 + r) * width + x0 + c) * 4;
          px[at] = LUT[k];
          px[at + 1] = LUT[k + 1];
          px[at + 2] = LUT[k + 2];
        }
      }
    });
    ctx.putImageData(image, 0, 0);
    this.container.dataset.scale = String(scale);
  }

  // The unit, pixel and weight under the pointer.
  point(event) {
    if (!this.readout) return;
    const rect = this.canvas.getBoundingClientRect();
    const x = Math.floor(((event.clientX - rect.left) / rect.width) * this.canvas.width);
    const y = Math.floor(((event.clientY - rect.top) / rect.height) * this.canvas.height);
    const col = Math.floor(x / (SIDE + GAP));
    const row = Math.floor(y / (SIDE + GAP));
    const c = x - col * (SIDE + GAP);
    const r = y - row * (SIDE + GAP);
    const u = row * this.cols + col;
    if (c >= SIDE || r >= SIDE || col >= this.cols || u >= this.units.length) {
      setText(this.readout, "");
      return;
    }
    const w = num(this.units[u][r * SIDE + c]);
    setText(this.readout, `unit ${u + 1} · pixel (row ${r + 1}, column ${c + 1}) · w = ${fmtG(w, 4)}`);
  }
}

// The colour bar: the map from -scale to +scale, with the value written at both ends.
function drawColourBar(container, scale, how) {
  const canvas = el("canvas", { class: "colour-bar", "aria-hidden": "true" });
  canvas.width = LUT_SIZE;
  canvas.height = 1;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(LUT_SIZE, 1);
  for (let i = 0; i < LUT_SIZE; i++) {
    image.data.set([LUT[i * 3], LUT[i * 3 + 1], LUT[i * 3 + 2], 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
  const text = fmtG(scale, 3);
  container.replaceChildren(
    el("div", { class: "colour-bar-row" },
      el("span", { class: "colour-bar-end", text: `−${text}` }),
      canvas,
      el("span", { class: "colour-bar-end", text: `+${text}` })),
    el("p", { class: "chart-note", text: `weight w: blue < 0 < red, white ≈ 0; one scale for every image on this page: ±${text} (${how})` }),
  );
  container.dataset.scale = String(scale);
}

// Several runs' grids with one shared scale and one colour bar, and a scale switch.
//   items: [{ id, title, units, deadUnits?, host }] where host is the element to draw into.
export class WeightGrids {
  constructor({ bar, modeSelect, readout, wide = true }) {
    this.bar = bar;
    this.modeSelect = modeSelect;
    this.readout = readout;
    this.wide = wide;
    this.grids = [];
    if (modeSelect) modeSelect.addEventListener("change", () => this.redraw());
  }

  set(items) {
    this.grids = items.filter((item) => item.units && item.units.length).map((item) =>
      new WeightGrid(item.host, { units: item.units, title: item.title, readout: this.readout, wide: this.wide,
        deadUnits: item.deadUnits }));
    this.redraw();
  }

  redraw() {
    if (!this.grids.length) return;
    const mode = this.modeSelect ? this.modeSelect.value : "max";
    const scale = sharedScale(this.grids.map((g) => g.units), mode) || 1;
    for (const grid of this.grids) grid.draw(scale);
    const runs = this.grids.length > 1 ? `all units of the ${this.grids.length} runs` : "all units";
    drawColourBar(this.bar, scale, mode === "p99"
      ? `99th percentile of |w| over ${runs}; larger weights drawn at full colour`
      : `largest |w| over ${runs}`);
  }
}
