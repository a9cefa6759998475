// The two live charts: loss per batch (WebGL `scattergl`, the only GL figure on a page) and
// per-epoch curves (SVG `scatter`, a few points per run).
//
// Incoming points are appended to plain arrays (the full history is kept in memory: a seed
// run is 6 260 batch points) and drawn at most once per animation frame with `Plotly.react`
// and a new `layout.datarevision` — never one redraw per point. While a run streams in, the
// batch chart mostly redraws only its lines (see BatchChart). Background tabs get no
// animation frames; they keep appending and draw once when visible again.
//
// Long per-batch histories are downsampled for the view only (see MinMaxDecimator), so a
// draw costs about the same at 1 000 or 300 000 points.
//
// For tests and benchmarks each chart container carries data-points (points received, all
// runs), data-renderer ("gl" or "svg") and data-draws; window.normlabStats gets draws too.

import { Smoother } from "./smoothing.js";
import { stats, pushBounded } from "./stream.js";
import { num } from "./format.js";
import { plotlyText, runName } from "./plotly_text.js";

// Per trace, after downsampling: WebGL draws thousands of points cheaply; SVG paths slow
// down past ~10k points per figure (plotly.js #553), so the SVG fallback keeps fewer.
export const MAX_VIEW_POINTS = { gl: 4000, svg: 1500 };
const MIN_DRAW_INTERVAL_MS = 50;
const MAX_DRAW_INTERVAL_MS = 100;
// Charts of per-epoch data (several epochs a second on a fast run) redraw at most this often:
// each draw costs the same 20–40 ms whatever its few points, and the browser's CPU is taken
// from the training run on a small machine (bench_dashboard, part 1).
const EPOCH_DRAW_INTERVAL_MS = 1000;

export const CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
export const FONT = { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12, color: "#1f2933" };
export const GRID = "#e4e7eb";

// "gl" when WebGL works and the page may compile code at run time (Plotly's WebGL layer,
// regl, generates its shader glue with Function(); a CSP without 'unsafe-eval' forbids that),
// else "svg". ?renderer=svg|gl in the page URL forces one (tests, debugging).
export function pickRenderer() {
  const forced = new URLSearchParams(location.search).get("renderer");
  if (forced === "svg" || forced === "gl") return forced;
  try {
    // eslint-disable-next-line no-new-func
    new Function("return 1");
  } catch {
    return "svg";
  }
  try {
    const canvas = document.createElement("canvas");
    const gl = canvas.getContext("webgl") || canvas.getContext("experimental-webgl");
    if (!gl) return "svg";
    const lose = gl.getExtension("WEBGL_lose_context");
    if (lose) lose.loseContext(); // give the probe's context back at once
    return "gl";
  } catch {
    return "svg";
  }
}

// Plotly.js arrives as a deferred classic script (base.html) and sets window.Plotly; page modules may
// run before it (an async module starts its requests while Plotly is still loading). One promise
// for the whole page, settled by the script's load event (polling only as a fallback).
let plotlyPromise = null;
export function whenPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotlyPromise) {
    plotlyPromise = new Promise((resolve, reject) => {
      const started = performance.now();
      let timer = null;
      const check = () => {
        if (!window.Plotly) return false;
        clearTimeout(timer);
        resolve(window.Plotly);
        return true;
      };
      const script = document.querySelector('script[src$="/plotly.min.js"]');
      if (script) script.addEventListener("load", check);
      const poll = () => {
        if (check()) return;
        if (performance.now() - started > 20000) reject(new Error("Plotly.js did not load"));
        else timer = setTimeout(poll, 100);
      };
      poll();
    });
    plotlyPromise.catch(() => {
      plotlyPromise = null; // a later draw may try again
    });
  }
  return plotlyPromise;
}

// Charts draw only when their container is on screen or about to be (within NEAR_VIEW of the
// viewport): a page with a dozen charts draws the two at the top at load and each of the others
// when it is scrolled to, instead of blocking the page for the sum of all draws (the run page:
// ~0.5 s). A chart that is never seen is never drawn; it still takes its data (data-points).
// fn(near) is called with the state at once (asynchronously) and on every change. Without
// IntersectionObserver everything counts as near.
const NEAR_VIEW = "150px 0px";
const nearWatchers = new Map(); // element → [fn]
let nearObserver = null;

export function watchNearView(el, fn) {
  if (!("IntersectionObserver" in window)) {
    queueMicrotask(() => fn(true));
    return;
  }
  if (!nearObserver) {
    nearObserver = new IntersectionObserver((entries) => {
      for (const entry of entries) for (const f of nearWatchers.get(entry.target) || []) f(entry.isIntersecting);
    }, { rootMargin: NEAR_VIEW });
  }
  if (!nearWatchers.has(el)) {
    nearWatchers.set(el, []);
    nearObserver.observe(el);
  }
  nearWatchers.get(el).push(fn);
}

// fn() once, the first time el is near the viewport (e.g. load a figure's data when it is wanted).
export function onceNearView(el, fn) {
  let done = false;
  watchNearView(el, (near) => {
    if (near && !done) {
      done = true;
      fn();
    }
  });
}

// A page that loads its data after the charts are made holds their drawing until it has it, so
// no chart is drawn empty first and then again full: holdDraws(promise) defers every chart's
// draws until the promise settles (fulfilled or not), then each chart with news draws once.
const holds = new Set();
const allCharts = []; // every chart of the page, in creation order (= drawing priority)

export function holdDraws(promise) {
  const token = {};
  holds.add(token);
  const release = () => {
    holds.delete(token);
    if (!holds.size) for (const chart of allCharts) if (chart.dirty) chart.schedule();
  };
  Promise.resolve(promise).then(release, release);
  return promise;
}

// Downsampling for display: M4 decimation (Jugel et al., "M4: a visualization-oriented time
// series data aggregation", VLDB 2014). The x range is cut into buckets of k consecutive points
// (k a power of two, the smallest giving at most maxPoints/4 buckets); each bucket contributes
// its first, lowest, highest and last point, in x order. Unlike keeping every k-th point this
// keeps spikes (a diverging batch stays visible), the band the raw loss moves in, and the exact
// first and latest point of the run. Complete buckets are cached; while k stays the same only
// the last, partial bucket is recomputed, and k doubles only when the history does, so
// appending is cheap. Points with a null y (NaN loss) are kept as gaps. The full series stays in
// memory (and in the store and exports); only the view is reduced.
export class MinMaxDecimator {
  constructor(maxPoints = MAX_VIEW_POINTS.gl) {
    this.maxPoints = maxPoints;
    this.reset();
  }

  reset() {
    this.k = 0;
    this.buckets = 0;
    this.x = [];
    this.y = [];
  }

  view(xs, ys) {
    const n = xs.length;
    if (n <= this.maxPoints) return { x: xs, y: ys };
    const target = Math.ceil(n / Math.floor(this.maxPoints / 4));
    let k = 1;
    while (k < target) k *= 2;
    if (k !== this.k) {
      this.reset();
      this.k = k;
    }
    const complete = Math.floor(n / k);
    for (let b = this.buckets; b < complete; b++) bucket(xs, ys, b * k, (b + 1) * k, this.x, this.y);
    this.buckets = complete;
    if (complete * k === n) return { x: this.x, y: this.y };
    const tx = [];
    const ty = [];
    bucket(xs, ys, complete * k, n, tx, ty);
    return { x: this.x.concat(tx), y: this.y.concat(ty) };
  }
}

function bucket(xs, ys, from, to, outX, outY) {
  let iMin = -1;
  let iMax = -1;
  let gap = -1;
  for (let i = from; i < to; i++) {
    const y = ys[i];
    if (y === null) {
      if (gap < 0) gap = i;
      continue;
    }
    if (iMin < 0 || y < ys[iMin]) iMin = i;
    if (iMax < 0 || y > ys[iMax]) iMax = i;
  }
  // First, extremes, a gap marker if any, last: sorted by index, each index once.
  const picks = [from, iMin, iMax, gap, to - 1].filter((i) => i >= 0).sort((a, b) => a - b);
  let previous = -1;
  for (const i of picks) {
    if (i === previous) continue;
    previous = i;
    outX.push(xs[i]);
    outY.push(ys[i]);
  }
}

export const finiteOrNull = (v) => {
  const x = num(v);
  return Number.isFinite(x) ? x : null;
};

// "Ignore outliers": a y range that covers the 5–95 % quantiles of the values (plus 10 % of
// that span on each side), as TensorBoard's "ignore outliers in chart scaling" does. The view
// of a spiky loss then shows where the curve spends its time, not its first batches or a
// diverging spike. Long series are sampled at an even stride (at most SAMPLE values), which
// moves a quantile by well under one percentile. For a log axis the range is in log10 units
// (what Plotly expects) and only positive values count. Returns null when there is too little.
const QUANTILE_SAMPLE = 20000;
export function quantileRange(values, { log = false, low = 0.05, high = 0.95 } = {}) {
  const stride = Math.max(1, Math.ceil(values.length / QUANTILE_SAMPLE));
  const kept = [];
  for (let i = 0; i < values.length; i += stride) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v) || (log && v <= 0)) continue;
    kept.push(log ? Math.log10(v) : v);
  }
  if (kept.length < 2) return null;
  kept.sort((a, b) => a - b);
  const at = (q) => {
    const pos = q * (kept.length - 1);
    const i = Math.floor(pos);
    return i + 1 < kept.length ? kept[i] + (pos - i) * (kept[i + 1] - kept[i]) : kept[i];
  };
  let lo = at(low);
  let hi = at(high);
  if (hi - lo < 1e-12) {
    const pad = Math.max(Math.abs(hi) * 0.05, 1e-6);
    lo -= pad;
    hi += pad;
  }
  const pad = 0.1 * (hi - lo);
  return [lo - pad, hi + pad];
}

// At most one chart draws per animation frame, each in its own task. A page may hold a dozen
// charts (the run page); drawing every dirty one in the same frame would stall the page for the
// sum of their draws. The chart made first goes first (the loss per batch on the run page and the
// dashboard), and nothing is queued for a frame before Plotly.js has run: otherwise every draw
// waiting for it would run in the one task that follows its load.
const frameQueue = new Set();
let frameRequested = false;

function queueDraw(chart) {
  frameQueue.add(chart);
  requestFrame();
}

function requestFrame() {
  if (frameRequested) return;
  frameRequested = true;
  if (window.Plotly) {
    requestAnimationFrame(drawNextChart);
    return;
  }
  const go = () => requestAnimationFrame(drawNextChart);
  whenPlotly().then(go, go); // the draw reports a Plotly that never came
}

function drawNextChart() {
  frameRequested = false;
  let chart = null;
  for (const c of frameQueue) if (!chart || c.order < chart.order) chart = c;
  if (chart) {
    frameQueue.delete(chart);
    chart.scheduled = false;
    chart.draw();
  }
  if (frameQueue.size) requestFrame();
}

// Shared machinery: per-run series, draw scheduling, the data-points attribute.
export class Chart {
  constructor(el) {
    this.el = el;
    this.runs = new Map(); // id (string) → series
    this.rev = 0;
    this.scheduled = false;
    this.drawing = false;
    this.dirty = false;
    this.failed = false;
    this.lastDrawEnd = -Infinity; // the first draw never waits
    this.lastDrawMs = 0;
    this.near = false; // on screen or nearly (watchNearView); nothing is drawn before it is
    this.order = allCharts.length;
    allCharts.push(this);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && this.dirty) this.schedule();
    });
    watchNearView(el, (near) => {
      this.near = near;
      if (near && this.dirty) this.schedule();
    });
    this.schedule();
  }

  // Whether the chart shows per-epoch data (redrawn at most once a second) rather than per batch.
  get perEpoch() {
    return false;
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
    const series = this.runs.get(String(id));
    return series ? series.x.length : 0;
  }

  updateCount() {
    let total = 0;
    for (const series of this.runs.values()) total += series.x.length;
    this.el.dataset.points = String(total);
  }

  // Draw on the next animation frame, but leave at least MIN_DRAW_INTERVAL_MS and three times
  // the last draw's duration between draws, so drawing takes at most about a quarter of one core
  // however many points there are (two cores are shared with training on a small machine).
  // The gap is capped at MAX_DRAW_INTERVAL_MS so one slow draw cannot hold the live curve back
  // beyond the latency budget (bench_dashboard: p95 event → drawn ≤ 250 ms).
  // Charts of per-epoch data wait EPOCH_DRAW_INTERVAL_MS instead (the first draw is at once).
  // Off screen (see watchNearView) or while the page holds draws (holdDraws), the chart only
  // remembers that it has news and draws when that ends.
  schedule() {
    this.dirty = true;
    if (this.scheduled || !this.near || holds.size) return;
    this.scheduled = true;
    const gap = this.perEpoch
      ? EPOCH_DRAW_INTERVAL_MS
      : Math.min(MAX_DRAW_INTERVAL_MS, Math.max(MIN_DRAW_INTERVAL_MS, 3 * this.lastDrawMs));
    const wait = this.lastDrawEnd + gap - performance.now();
    const go = () => queueDraw(this);
    if (wait > 4) setTimeout(go, wait);
    else go();
  }

  async draw() {
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
      stats.draws += 1;
      stats.drawMs = Math.round(this.lastDrawMs * 10) / 10;
      this.el.dataset.drawMs = String(stats.drawMs);
      stats.lastDrawAt = Date.now();
      this.el.dataset.draws = String(this.rev);
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
    await Plotly.react(this.el, this.traces(), this.layout(), CONFIG);
  }

  afterDraw() {}

  onDrawError(err) {
    if (!this.failed) console.error("normlab: chart draw failed", err);
    this.failed = true;
  }

  // The note shown in an empty chart, or null.
  note() {
    if (this.runs.size === 0) return "No runs shown yet";
    if ([...this.runs.values()].every((series) => series.x.length === 0)) return "Waiting for data…";
    return null;
  }

  baseLayout() {
    const empty = this.runs.size === 0;
    const note = this.note();
    return {
      datarevision: this.rev,
      uirevision: "keep", // keep zoom, pan and legend clicks across redraws
      autosize: true,
      margin: { l: 64, r: 20, t: 12, b: 48 },
      font: FONT,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      showlegend: !empty,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 12 } },
      hovermode: "closest",
      annotations: note
        ? [{ text: note, showarrow: false, xref: "paper",
          yref: "paper", x: 0.5, y: 0.5, font: { size: 14, color: "#7b8794" } }]
        : [],
    };
  }
}

// Base of the charts of per-epoch data: they redraw at most every EPOCH_DRAW_INTERVAL_MS.
export class PerEpochChart extends Chart {
  get perEpoch() {
    return true;
  }
}

// While points stream in, the batch chart redraws only its lines (Plotly.animate without a
// redraw): about a third of the main-thread time of a full Plotly.react, time a small machine
// takes from the training run (bench_dashboard, part 1). That leaves the axes as they are, so it
// is done only while every point fits them: a live chart's x axis reaches the run's last step
// (or FOLLOW_HEADROOM past the latest one) and its y axis a margin past the loss's extremes
// (more below: a loss falls).
// A full draw follows when a point would fall outside, when anything but the data changed, and
// at least every FULL_DRAW_EVERY_MS; when the stream stops, one more fits the axes to the data.
// SVG only: Plotly does not animate WebGL traces. A zoomed or panned view stays as the user left it.
const FOLLOW_HEADROOM = 1 / 3; // of the latest step, on the x axis
const FOLLOW_MARGIN = { below: 0.15, above: 0.05 }; // of the loss's span, on the y axis
const FULL_DRAW_EVERY_MS = 5000;
const LIVE_GAP_MS = 2000; // appends closer together than this are a live stream
const LINES_ONLY = { frame: { duration: 0, redraw: false }, transition: { duration: 0 }, mode: "immediate" };

export class BatchChart extends Chart {
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
    this.linesOnlyDraws = 0;
  }

  ensure(id, { label, color }) {
    const key = String(id);
    if (!this.runs.has(key)) {
      this.runs.set(key, {
        id: key, label, color, x: [], y: [], s: [],
        smoother: new Smoother(this.smoothing),
        rawView: new MinMaxDecimator(MAX_VIEW_POINTS[this.renderer]),
        smoothView: new MinMaxDecimator(MAX_VIEW_POINTS[this.renderer]),
      });
      this.updateCount();
      this.schedule();
    }
    return this.runs.get(key);
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

  // The step the run will end at (its start event says): a live chart's x axis reaches it at once.
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
      this.linesOnlyDraws += 1;
      this.el.dataset.linesOnlyDraws = String(this.linesOnlyDraws);
      return;
    }
    const layout = this.layout();
    // Copies, taken first: Plotly keeps the layout object and writes the user's zoom into it.
    const sent = { x: rangeOf(layout.xaxis), y: rangeOf(layout.yaxis) };
    await Plotly.react(this.el, traces, layout, CONFIG);
    this.sentX = sent.x;
    this.sentY = sent.y;
    const full = this.el._fullLayout;
    this.shape = full && full.xaxis && full.yaxis
      ? { signature, x: [...full.xaxis.range], y: [...full.yaxis.range], at: performance.now() }
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
  // panned (Plotly keeps that view across draws, as uirevision says). A double click sets
  // autorange, which hands the view back to the chart.
  userMovedAxes() {
    const full = this.el._fullLayout;
    if (!full || !full.xaxis || !full.yaxis) return false;
    const moved = (axis, sent) => (sent.range
      ? axis.autorange !== true && (axis.range[0] !== sent.range[0] || axis.range[1] !== sent.range[1])
      : axis.autorange === false);
    return moved(full.xaxis, this.sentX) || moved(full.yaxis, this.sentY);
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

  setFitQuantiles(on) {
    this.fitQuantiles = on;
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
        ...(this.userMovedAxes() ? rangeOf(this.sentY) : rangeOrAuto(this.yRange())),
      },
    };
  }

  afterDraw() {
    const drawn = {};
    for (const series of this.runs.values()) drawn[series.id] = series.x.length;
    pushBounded(stats.drawLog, [Date.now(), drawn]);
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

// An axis's range settings alone, copied.
const rangeOf = (axis) => (axis.range ? { range: [...axis.range], autorange: false } : { autorange: true });

// A fixed range, or autorange (said explicitly, so turning a fixed range off takes effect).
export function rangeOrAuto(range) {
  return range ? { range, autorange: false } : { autorange: true };
}

export class EpochChart extends PerEpochChart {
  setFitQuantiles(on) {
    this.fitQuantiles = on;
    this.schedule();
  }

  ensure(id, { label, color }) {
    const key = String(id);
    if (!this.runs.has(key)) {
      this.runs.set(key, { id: key, label, color, x: [], loss: [], penalty: [], acc: [] });
      this.updateCount();
      this.schedule();
    }
    return this.runs.get(key);
  }

  append(id, epoch) {
    const series = this.runs.get(String(id));
    if (!series || !epoch || !epoch.epoch || !epoch.epoch.length) return;
    for (let i = 0; i < epoch.epoch.length; i++) {
      series.x.push(epoch.epoch[i]);
      series.loss.push(finiteOrNull(epoch.train_loss && epoch.train_loss[i]));
      series.penalty.push(finiteOrNull(epoch.penalty && epoch.penalty[i]));
      series.acc.push(finiteOrNull(epoch.test_accuracy && epoch.test_accuracy[i]));
    }
    this.updateCount();
    this.schedule();
  }

  lossRange() {
    const all = [];
    for (const s of this.runs.values()) all.push(...s.loss, ...s.penalty);
    return quantileRange(all);
  }

  maxEpoch() {
    let max = 0;
    for (const s of this.runs.values()) if (s.x.length) max = Math.max(max, s.x[s.x.length - 1]);
    return max;
  }

  traces() {
    const out = [];
    for (const s of this.runs.values()) {
      const name = runName(s.id, s.label);
      const common = { type: "scatter", mode: "lines+markers", legendgroup: s.id, x: s.x, marker: { size: 5 } };
      out.push({
        ...common, uid: `loss-${s.id}`, name, y: s.loss, line: { color: s.color, width: 2 },
        hovertemplate: "epoch %{x}<br>train loss %{y:.4f}<extra>%{fullData.name}</extra>",
      });
      out.push({
        ...common, uid: `pen-${s.id}`, name: `${name} penalty`, showlegend: false, y: s.penalty,
        line: { color: s.color, width: 1.5, dash: "dash" }, marker: { size: 4 },
        hovertemplate: "epoch %{x}<br>penalty part %{y:.4f}<extra>#" + s.id + "</extra>",
      });
      out.push({
        ...common, uid: `acc-${s.id}`, name: `${name} test accuracy`, showlegend: false, y: s.acc, yaxis: "y2",
        line: { color: s.color, width: 2, dash: "dot" }, marker: { size: 6, symbol: "diamond" },
        hovertemplate: "epoch %{x}<br>test accuracy %{y:.2%}<extra>#" + s.id + "</extra>",
      });
    }
    return out;
  }

  layout() {
    return {
      ...this.baseLayout(),
      margin: { l: 64, r: 64, t: 12, b: 48 },
      // Whole epochs only: one tick each while there are few, else Plotly's own (whole) steps.
      xaxis: {
        title: { text: "epoch" }, gridcolor: GRID, zeroline: false, rangemode: "nonnegative",
        ...(this.maxEpoch() <= 12 ? { tickmode: "linear", tick0: 0, dtick: 1 } : {}),
      },
      yaxis: {
        title: { text: "loss (nats)" }, gridcolor: GRID, zeroline: false, rangemode: "tozero",
        ...(this.fitQuantiles ? rangeOrAuto(this.lossRange()) : {}),
      },
      yaxis2: {
        title: { text: "test accuracy" }, overlaying: "y", side: "right", range: [0, 1.02],
        tickmode: "linear", tick0: 0, dtick: 0.2, tickformat: ".0%", showgrid: false, zeroline: false,
      },
    };
  }
}

// Both charts plus the smoothing slider, the log toggle and the "ignore outliers" toggle, fed
// per run. Other loss charts of the page (e.g. the run page's data + penalty charts) can follow
// the same controls: follow(chart) calls its setSmoothing / setFitQuantiles when they change.
export class RunCharts {
  // The charts and controls of templates/_charts.html, found by their ids.
  static ofPage() {
    const $ = (selector) => document.querySelector(selector);
    return new RunCharts({
      batchEl: $("#batch-chart"), epochEl: $("#epoch-chart"),
      smoothingInput: $("#smoothing"), smoothingOutput: $("#smoothing-value"), logInput: $("#log-y"),
      fitInput: $("#fit-quantiles"),
    });
  }

  constructor({ batchEl, epochEl, smoothingInput, smoothingOutput, logInput, fitInput }) {
    const initial = smoothingInput ? Number(smoothingInput.value) : 0.6;
    const fit = !!(fitInput && fitInput.checked);
    this.smoothingInput = smoothingInput;
    this.fitInput = fitInput;
    this.batch = new BatchChart(batchEl, { smoothing: initial, logScale: !!(logInput && logInput.checked), fitQuantiles: fit });
    this.epoch = new EpochChart(epochEl);
    this.epoch.fitQuantiles = fit;
    this.followers = [this.batch, this.epoch];
    if (smoothingInput) {
      const show = () => {
        if (smoothingOutput) smoothingOutput.value = Number(smoothingInput.value).toFixed(2);
      };
      show();
      smoothingInput.addEventListener("input", () => {
        show();
        for (const chart of this.followers) if (chart.setSmoothing) chart.setSmoothing(Number(smoothingInput.value));
      });
    }
    if (logInput) logInput.addEventListener("change", () => this.batch.setLogScale(logInput.checked));
    if (fitInput) {
      fitInput.addEventListener("change", () => {
        for (const chart of this.followers) if (chart.setFitQuantiles) chart.setFitQuantiles(fitInput.checked);
      });
    }
  }

  follow(chart) {
    this.followers.push(chart);
    if (chart.setFitQuantiles && this.fitInput) chart.setFitQuantiles(this.fitInput.checked);
    if (chart.setSmoothing && this.smoothingInput) chart.setSmoothing(Number(this.smoothingInput.value));
    return chart;
  }

  has(id) {
    return this.batch.has(id);
  }

  add(id, info) {
    this.batch.ensure(id, info);
    this.epoch.ensure(id, info);
  }

  remove(id) {
    this.batch.remove(id);
    this.epoch.remove(id);
  }

  setRunInfo(id, info) {
    this.batch.setRunInfo(id, info);
    this.epoch.setRunInfo(id, info);
  }

  // Feed a frame entry or a /metrics answer (same column arrays).
  ingest(id, chunk) {
    if (chunk.start && num(chunk.start.total_steps) > 0) this.batch.setLastStep(id, num(chunk.start.total_steps));
    if (chunk.batch) this.batch.append(id, chunk.batch);
    if (chunk.epoch) this.epoch.append(id, chunk.epoch);
  }

  batchPoints(id) {
    return this.batch.pointCount(id);
  }
}
