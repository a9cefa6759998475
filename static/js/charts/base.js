// The base every Plotly chart of the pages stands on. A chart kind says what it shows
// (traces(), layout(), note()); the base decides when it draws and how the figure is set up:
//   * scheduling (schedule.js): near the view only, held while the page loads, one chart per
//     animation frame, and at most so often — per batch: at least 50 ms and three times the last
//     draw's duration apart (so drawing takes about a quarter of one core at most), but never
//     more than 100 ms, which would hold a live curve back; per epoch: once a second;
//   * decimation (decimate.js) and the "ignore outliers" y range (quantiles.js) for the kinds
//     that need them;
//   * escaping: every text a person typed goes through plotlyText / runName (plotly_text.js);
//   * sizing and look: responsive, autosized, the same margins, font, grid and legend.
// Each container carries data-points (the points it holds), data-draws (its datarevision: draws
// so far), and data-renderer where WebGL is an option.

import { debugStats } from "../debug.js";
import { fmtG, num } from "../format.js";
import { CONFIG, FONT, MUTED, whenPlotly } from "./plotly.js";
import { drawsHeld, queueDraw, register, watchNearView } from "./schedule.js";

export { plotlyText, runName } from "../plotly_text.js";
export { GRID } from "./plotly.js";
export { quantileRange, rangeOrAuto } from "./quantiles.js";

const MIN_DRAW_INTERVAL_MS = 50;
const MAX_DRAW_INTERVAL_MS = 100;
// Each draw costs the same tens of milliseconds whatever its few points, taken from training on a
// small machine; per-epoch data (several epochs a second on a fast run) gains nothing from more.
const EPOCH_DRAW_INTERVAL_MS = 1000;

// A number from the API, or null where there is none (Plotly leaves a gap).
export const finiteOrNull = (v) => {
  const x = num(v);
  return Number.isFinite(x) ? x : null;
};

// Whole epochs on the x axis: one tick each while there are few, else Plotly's own (whole) steps.
export const epochTicks = (last) => (last <= 12 ? { tickmode: "linear", tick0: 0, dtick: 1 } : {});

// Ticks of a log axis over values from lo to hi (> 0), labelled in full: at the powers of ten when
// it spans two decades or more, at 1, 2 and 5 times them over one to two (Plotly alone labels every
// digit there, "5 6 7 8 9 10⁻³ 2 3 …", or the 2 and 5 with no power), at round steps below one.
export function logTicks(lo, hi) {
  if (!(lo > 0 && hi > 0)) return { exponentformat: "power" };
  const decades = Math.log10(hi / lo);
  if (decades >= 2) return { exponentformat: "power", dtick: 1 };
  let values = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of [1, 2, 5]) values.push(m * 10 ** k);
  }
  values = values.filter((v) => v >= lo / 1.05 && v <= hi * 1.05);
  if (values.length < 3) values = niceSteps(lo, hi);
  return { exponentformat: "power", tickmode: "array", tickvals: values, ticktext: values.map((v) => fmtG(v, 3)) };
}

// Round values from lo to hi, about five of them.
function niceSteps(lo, hi) {
  const raw = (hi - lo) / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi * 1.0001; v += step) out.push(Number(v.toPrecision(6)));
  return out;
}

// The axes of a chart with nothing to draw: a blank frame behind its note (Plotly's empty axes
// run from −1 to 6 and would label a loss axis from −1).
function blankAxes(layout) {
  const out = { ...layout };
  for (const key of Object.keys(layout)) {
    if (/^[xy]axis\d*$/.test(key)) {
      out[key] = { ...layout[key], type: "linear", range: [0, 1], autorange: false, showticklabels: false, ticks: "", dtick: undefined };
    }
  }
  return out;
}

// A chart is one tab stop, named by its figure's title for screen readers. Plotly's mode bar (a
// dozen buttons) shows on hover, or from the keyboard when Enter opens it on the focused chart
// (Escape or leaving closes it): hidden, its buttons take no tab stops (style.css).
function focusable(el) {
  if (el.hasAttribute("tabindex")) return;
  el.tabIndex = 0;
  const title = el.closest("figure") && el.closest("figure").querySelector(".chart-title");
  el.setAttribute("role", "group");
  el.setAttribute("aria-label", `${title ? title.textContent.trim() : "chart"} (chart; Enter shows its zoom and download buttons)`);
  el.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target === el) el.dataset.toolbar = "open";
    else if (event.key === "Escape") {
      delete el.dataset.toolbar;
      el.focus();
    }
  });
  el.addEventListener("focusout", (event) => {
    if (!el.contains(event.relatedTarget)) delete el.dataset.toolbar;
  });
}

export class Chart {
  // pace: "batch" (redraws as data streams in) or "epoch" (at most once a second).
  // offScreen: draw even when not near the view.
  constructor(el, { pace = "batch", offScreen = false } = {}) {
    this.el = el;
    this.pace = pace;
    this.rev = 0;
    this.fitQuantiles = false;
    this.scheduled = false; // waiting for its time or its animation frame
    this.timer = null;
    this.timerAt = Infinity;
    this.drawing = false;
    this.dirty = false;
    this.failed = false;
    this.lastDrawEnd = -Infinity; // the first draw never waits
    this.lastDrawMs = 0;
    this.near = offScreen;
    this.endedNote = null; // what an empty chart says once nothing more will come (setEnded)
    this.order = register(this);
    focusable(el);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && this.dirty) this.schedule();
    });
    if (!offScreen) {
      watchNearView(el, (near) => {
        this.near = near;
        if (near && this.dirty) this.schedule();
      });
    }
    this.schedule();
  }

  // Whether there is anything to draw yet (a chart with nothing to show waits for its data).
  ready() {
    return true;
  }

  // How long after the last draw the next may start.
  drawGap() {
    if (this.pace === "epoch") return EPOCH_DRAW_INTERVAL_MS;
    return Math.min(MAX_DRAW_INTERVAL_MS, Math.max(MIN_DRAW_INTERVAL_MS, 3 * this.lastDrawMs));
  }

  // Draw as soon as the rules allow. Off screen, while the page holds draws, or during a draw, the
  // chart only remembers that it has news (the draw's end, the view, the release reschedule it).
  schedule() {
    this.dirty = true;
    if (this.drawing || !this.near || drawsHeld() || !this.ready()) return;
    const at = this.lastDrawEnd + this.drawGap();
    if (this.scheduled) {
      if (!this.timer || this.timerAt <= at) return;
      clearTimeout(this.timer); // it may draw sooner now (e.g. nothing is left to wait for)
    }
    this.scheduled = true;
    const wait = at - performance.now();
    this.timer = null;
    this.timerAt = Infinity;
    if (wait <= 4) {
      queueDraw(this);
      return;
    }
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      queueDraw(this);
    }, wait);
  }

  async draw() {
    this.scheduled = false;
    if (this.drawing) return; // the running draw reschedules when it ends
    this.dirty = false;
    this.drawing = true;
    try {
      const Plotly = await whenPlotly();
      this.rev += 1;
      const t0 = performance.now();
      await this.render(Plotly);
      this.lastDrawEnd = performance.now();
      this.lastDrawMs = this.lastDrawEnd - t0;
      this.el.dataset.draws = String(this.rev);
      debugStats.draw(this.el, this.lastDrawMs);
      this.afterDraw();
    } catch (err) {
      this.onDrawError(err);
    } finally {
      this.drawing = false;
      if (this.dirty) this.schedule();
    }
  }

  // One draw of the whole figure.
  async render(Plotly) {
    await Plotly.react(this.el, this.traces(), this.fullLayout(), CONFIG);
  }

  // The kind's layout, its axes blank while the chart has nothing to show.
  fullLayout() {
    const layout = this.layout();
    return this.note() ? blankAxes(layout) : layout;
  }

  afterDraw() {}

  onDrawError(err) {
    if (!this.failed) console.error("normlab: chart draw failed", err);
    this.failed = true;
  }

  setFitQuantiles(on) {
    this.fitQuantiles = on;
    this.schedule();
  }

  // How many points the chart holds (data-points), set when its data changes.
  pointCount() {
    return 0;
  }

  updateCount() {
    this.el.dataset.points = String(this.pointCount());
  }

  // The note shown in an empty chart, or null.
  note() {
    return null;
  }

  // An empty chart's note while data may still come; once the run ended without any, what setEnded said.
  waiting(text) {
    return this.endedNote || text;
  }

  // The run this chart waits for ended (failed, cancelled…): an empty chart says so instead of waiting.
  setEnded(text) {
    if (this.endedNote === text) return;
    this.endedNote = text;
    this.schedule();
  }

  showLegend() {
    return true;
  }

  baseLayout() {
    const note = this.note();
    return {
      datarevision: this.rev,
      uirevision: "keep", // keep zoom, pan and legend clicks across redraws
      autosize: true,
      margin: { l: 64, r: 20, t: 12, b: 48 },
      font: FONT,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      showlegend: this.showLegend(),
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 12 } },
      hovermode: "closest",
      annotations: note
        ? [{ text: note, showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { size: 14, color: MUTED } }]
        : [],
    };
  }
}

// A chart of several runs' series, one colour and legend entry per run.
export class SeriesChart extends Chart {
  constructor(el, options) {
    super(el, options);
    this.runs = new Map(); // id (string) → series: {id, label, color, x, …}
  }

  // A new run's empty series; the kind adds its own arrays.
  newSeries(key, { label, color }) {
    return { id: key, label, color, x: [] };
  }

  ensure(id, info) {
    const key = String(id);
    if (!this.runs.has(key)) {
      this.runs.set(key, this.newSeries(key, info));
      this.updateCount();
      this.schedule();
    }
    return this.runs.get(key);
  }

  has(id) {
    return this.runs.has(String(id));
  }

  remove(id) {
    if (this.runs.delete(String(id))) {
      this.updateCount();
      this.schedule();
    }
  }

  setRunInfo(id, { label, color }) {
    const series = this.runs.get(String(id));
    if (!series) return;
    if (label) series.label = label;
    if (color) series.color = color;
    this.schedule();
  }

  pointCount(id) {
    if (id !== undefined) {
      const series = this.runs.get(String(id));
      return series ? series.x.length : 0;
    }
    let total = 0;
    for (const series of this.runs.values()) total += series.x.length;
    return total;
  }

  note() {
    if (this.runs.size === 0) return "No runs shown yet";
    if ([...this.runs.values()].every((series) => series.x.length === 0)) return this.waiting("Waiting for data…");
    return null;
  }

  showLegend() {
    return this.runs.size > 0;
  }
}
