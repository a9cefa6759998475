// The loss per batch of one or more runs: the raw loss faint, its smoothed curve (debiased EMA)
// solid; WebGL (`scattergl`, the only WebGL figure of a page) where it works, else SVG.
//
// Incoming points are appended to plain arrays (the full history stays in memory) and the view
// is downsampled (M4, decimate.js). While a run streams in, an SVG chart mostly redraws only its
// lines (Plotly.animate without a redraw): about a third of the main-thread time of a full
// Plotly.react, time a small machine would take from training. That leaves the axes as they are,
// so it is done only while every point fits them: a live chart's x axis reaches the step the run
// ends at (or FOLLOW_HEADROOM past the latest one where that is unknown) and its y axis a margin
// past the loss's extremes (more below: a loss falls). A full draw follows when a point would
// fall outside, when anything but the data changed, and at least every FULL_DRAW_EVERY_MS; when
// the stream stops, one more fits the axes to the data. Plotly does not animate WebGL traces.
// A zoomed or panned view stays as the user left it (uirevision), through both kinds of draw.

import { debugStats } from "../debug.js";
import { Smoother } from "../smoothing.js";
import { GRID, SeriesChart, finiteOrNull, logTicks, plotlyText, quantileRange, rangeOrAuto, runName } from "./base.js";
import { MAX_VIEW_POINTS, MinMaxDecimator } from "./decimate.js";
import { CONFIG, pickRenderer } from "./plotly.js";

const FOLLOW_HEADROOM = 1 / 3; // of the latest step, on the x axis
const FOLLOW_MARGIN = { below: 0.15, above: 0.05 }; // of the loss's span, on the y axis
const FULL_DRAW_EVERY_MS = 5000;
const LIVE_GAP_MS = 2000; // appends closer together than this are a live stream
const LINES_ONLY = { frame: { duration: 0, redraw: false }, transition: { duration: 0 }, mode: "immediate" };

// An axis's range settings alone, copied.
const rangeOf = (axis) => (axis.range ? { range: [...axis.range], autorange: false } : { autorange: true });

export class BatchChart extends SeriesChart {
  constructor(el, { renderer = pickRenderer(), smoothing = 0.6, logScale = false, fitQuantiles = false } = {}) {
    super(el);
    this.renderer = renderer;
    this.smoothing = smoothing;
    this.logScale = logScale;
    this.fitQuantiles = fitQuantiles;
    el.dataset.renderer = renderer;
    this.appended = [-Infinity, -Infinity]; // when the two latest appends came
    this.shape = null; // what the last full draw fixed: settings signature, axis ranges, time
    this.sentX = { autorange: true }; // the axes of the last full draw's layout
    this.sentY = { autorange: true };
    this.settleTimer = null;
  }

  newSeries(key, info) {
    return {
      ...super.newSeries(key, info), y: [], s: [], lastStep: null,
      smoother: new Smoother(this.smoothing),
      rawView: new MinMaxDecimator(MAX_VIEW_POINTS[this.renderer]),
      smoothView: new MinMaxDecimator(MAX_VIEW_POINTS[this.renderer]),
    };
  }

  // Append the batch columns of a frame or /metrics answer.
  append(id, batch) {
    const series = this.runs.get(String(id));
    if (!series || !batch || !batch.step || !batch.step.length) return;
    const steps = batch.step;
    const losses = batch.loss || [];
    for (let i = 0; i < steps.length; i++) {
      const y = finiteOrNull(losses[i]);
      series.x.push(steps[i]);
      series.y.push(y);
      series.s.push(y === null ? null : series.smoother.push(y));
    }
    this.appended = [this.appended[1], performance.now()];
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      if (this.sentX.range) this.schedule(); // fit the axes to the data once the stream stops
    }, LIVE_GAP_MS + 50);
    this.updateCount();
    this.schedule();
  }

  // The step the run will end at: a live chart's x axis reaches it at once.
  setLastStep(id, step) {
    const series = this.runs.get(String(id));
    if (series) series.lastStep = step;
  }

  isLive() {
    const [previous, last] = this.appended;
    return performance.now() - last < LIVE_GAP_MS && last - previous < LIVE_GAP_MS;
  }

  async render(Plotly) {
    const traces = this.traces();
    const signature = this.signature(traces);
    if (this.linesFit(traces, signature)) {
      const data = traces.map(({ x, y }) => ({ x, y }));
      await Plotly.animate(this.el, { data, traces: traces.map((_, i) => i) }, LINES_ONLY);
      debugStats.linesOnlyDraw(this.el);
      return;
    }
    const layout = this.fullLayout();
    // Copies, taken first: Plotly keeps the layout object and writes the user's zoom into it.
    const sent = { x: rangeOf(layout.xaxis), y: rangeOf(layout.yaxis) };
    await Plotly.react(this.el, traces, layout, CONFIG);
    this.sentX = sent.x;
    this.sentY = sent.y;
    // Plotly writes the ranges it chose (autorange) back into the figure's layout.
    const { xaxis, yaxis } = this.el.layout || {};
    this.shape = xaxis && xaxis.range && yaxis && yaxis.range
      ? { signature, x: [...xaxis.range], y: [...yaxis.range], at: performance.now() }
      : null;
  }

  // Everything a draw shows except the points themselves.
  signature(traces) {
    const settings = traces.map(({ x, y, ...rest }) => rest);
    return JSON.stringify([settings, this.logScale, this.fitQuantiles, this.renderer]);
  }

  // Whether redrawing only the lines shows the figure a full draw would.
  linesFit(traces, signature) {
    const shape = this.shape;
    if (!shape || this.renderer !== "svg" || shape.signature !== signature) return false;
    if (performance.now() - shape.at > FULL_DRAW_EVERY_MS) return false;
    if (this.userMovedAxes()) return true; // what falls outside the user's view is meant to
    if (!this.isLive() && this.sentX.range) return false; // the stream stopped: fit the axes
    for (const t of traces) {
      if (t.x.length && t.x[t.x.length - 1] > shape.x[1]) return false;
      if (this.fitQuantiles) continue; // that range clips outliers on purpose
      for (const v of t.y) {
        const a = this.onAxis(v);
        if (a !== null && (a < shape.y[0] || a > shape.y[1])) return false;
      }
    }
    return true;
  }

  // A loss in the y axis's own units (log10 on a log axis), or null where it cannot be shown.
  onAxis(y) {
    if (y === null) return null;
    return this.logScale ? (y > 0 ? Math.log10(y) : null) : y;
  }

  // Whether the axes show other than what the last full draw asked for: the user zoomed or
  // panned (Plotly writes that into the figure's layout and keeps it across draws, as uirevision
  // says). A double click sets autorange, which hands the view back to the chart.
  userMovedAxes() {
    const { xaxis, yaxis } = this.el.layout || {};
    if (!xaxis || !yaxis) return false;
    const moved = (axis, sent) => (sent.range
      ? axis.autorange !== true && !!axis.range && (axis.range[0] !== sent.range[0] || axis.range[1] !== sent.range[1])
      : axis.autorange === false);
    return moved(xaxis, this.sentX) || moved(yaxis, this.sentY);
  }

  // The x axis: fitted to the data, or while points stream in, reaching the step each run will
  // end at (as its fitted axis will), or where that is unknown FOLLOW_HEADROOM past its latest
  // step, so that the lines can grow into it. Unchanged while the user's zoom holds.
  xAxisRange() {
    if (this.userMovedAxes()) return rangeOf(this.sentX);
    if (!this.isLive() || this.renderer !== "svg") return { autorange: true };
    let reach = 0;
    for (const series of this.runs.values()) {
      if (!series.x.length) continue;
      const last = series.x[series.x.length - 1];
      reach = Math.max(reach, series.lastStep >= last ? series.lastStep : Math.ceil(last * (1 + FOLLOW_HEADROOM)) + 1);
    }
    return { range: [0, reach], autorange: false };
  }

  setSmoothing(weight) {
    this.smoothing = weight;
    for (const series of this.runs.values()) {
      series.smoother = new Smoother(weight);
      series.s = series.y.map((y) => (y === null ? null : series.smoother.push(y)));
      series.smoothView.reset();
    }
    this.schedule();
  }

  setLogScale(on) {
    this.logScale = on;
    this.schedule();
  }

  // The y range: for "ignore outliers", quantiles of every run's raw loss; while points stream
  // in, the loss's extremes and a margin (see FOLLOW_MARGIN); else null (autorange).
  yRange() {
    if (this.fitQuantiles) {
      const all = [];
      for (const series of this.runs.values()) for (const y of series.y) all.push(y);
      return quantileRange(all, { log: this.logScale });
    }
    if (!this.isLive() || this.renderer !== "svg") return null;
    let lo = Infinity;
    let hi = -Infinity;
    for (const series of this.runs.values()) {
      for (const y of series.y) { // the smoothed loss stays within the raw loss's extremes
        const v = this.onAxis(y);
        if (v === null) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (!(hi >= lo)) return null;
    const span = Math.max(hi - lo, Math.abs(hi) * 0.01, 1e-6);
    const bottom = lo - FOLLOW_MARGIN.below * span;
    return [!this.logScale && lo >= 0 ? Math.max(0, bottom) : bottom, hi + FOLLOW_MARGIN.above * span];
  }

  traces() {
    const type = this.renderer === "gl" ? "scattergl" : "scatter";
    const out = [];
    for (const series of this.runs.values()) {
      const raw = series.rawView.view(series.x, series.y);
      const sm = series.smoothView.view(series.x, series.s);
      out.push({
        type, mode: "lines", uid: `raw-${series.id}`, name: `${plotlyText(series.label)} (raw)`,
        legendgroup: series.id, showlegend: false, x: raw.x, y: raw.y,
        line: { color: series.color, width: 1 }, opacity: 0.28, hoverinfo: "skip",
      });
      out.push({
        type, mode: "lines", uid: `smooth-${series.id}`, name: runName(series.id, series.label),
        legendgroup: series.id, x: sm.x, y: sm.y, line: { color: series.color, width: 2 },
        hovertemplate: "step %{x}<br>loss %{y:.4f}<extra>%{fullData.name}</extra>",
      });
    }
    return out;
  }

  layout() {
    return {
      ...this.baseLayout(),
      xaxis: { title: { text: "step (SGD batches)" }, gridcolor: GRID, zeroline: false, rangemode: "tozero",
        ...this.xAxisRange() },
      yaxis: {
        title: { text: this.logScale ? "loss (nats, log scale)" : "loss (nats, data + penalty)" },
        type: this.logScale ? "log" : "linear", gridcolor: GRID, zeroline: false,
        ...(this.logScale ? logTicks(...this.positiveExtent()) : {}),
        ...(this.userMovedAxes() ? rangeOf(this.sentY) : rangeOrAuto(this.yRange())),
      },
    };
  }

  // The smallest and largest positive loss (what a log axis shows).
  positiveExtent() {
    let lo = Infinity;
    let hi = 0;
    for (const series of this.runs.values()) {
      for (const y of series.y) {
        if (y > 0 && y < lo) lo = y;
        if (y > hi) hi = y;
      }
    }
    return hi > 0 ? [lo, hi] : [1, 1];
  }

  afterDraw() {
    debugStats.batchDrawn(() => Object.fromEntries([...this.runs.values()].map((s) => [s.id, s.x.length])));
    // Plotly does not throw when it cannot get a WebGL context: it shows a notice instead.
    if (this.renderer === "gl" && this.el.querySelector(".no-webgl")) {
      this.onDrawError(new Error("Plotly could not create a WebGL context"));
    }
  }

  onDrawError(err) {
    if (this.renderer === "gl") {
      // WebGL failed after all (no context, lost context, blocked code generation...): use SVG.
      console.warn("normlab: WebGL chart failed, falling back to SVG:", err.message || err);
      this.useRenderer("svg");
      return;
    }
    super.onDrawError(err);
  }

  useRenderer(renderer) {
    this.renderer = renderer;
    this.el.dataset.renderer = renderer;
    try {
      window.Plotly.purge(this.el);
    } catch {
      /* nothing drawn yet */
    }
    for (const series of this.runs.values()) {
      series.rawView = new MinMaxDecimator(MAX_VIEW_POINTS[renderer]);
      series.smoothView = new MinMaxDecimator(MAX_VIEW_POINTS[renderer]);
    }
    this.dirty = true;
  }
}
