// When charts draw. Three rules keep a page responsive however many charts it has:
//   * a chart draws only when its container is on screen or about to be (near the view);
//   * a page that loads its data after making its charts holds every draw until it has it
//     (holdDraws), so no chart is drawn empty first and then again full;
//   * at most one chart draws per animation frame, each in its own task, the chart made first
//     going first (the loss per batch on the run page and the dashboard).

import { whenPlotly } from "./plotly.js";

// ---- near the view -----------------------------------------------------------------------------

// A page with a dozen charts draws the two at the top at load and each of the others when it is
// scrolled to, instead of blocking the page for the sum of all draws. A chart that is never seen
// is never drawn; it still takes its data. fn(near) is called with the state at once
// (asynchronously) and on every change. Without IntersectionObserver everything counts as near.
const NEAR_VIEW = "150px 0px";
const nearWatchers = new Map(); // element → [fn]
const nearState = new Map(); // element → its last reported state (a watcher added later starts from it)
let nearObserver = null;

export function watchNearView(el, fn) {
  if (!("IntersectionObserver" in window)) {
    queueMicrotask(() => fn(true));
    return;
  }
  if (!nearObserver) {
    nearObserver = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        nearState.set(entry.target, entry.isIntersecting);
        for (const f of nearWatchers.get(entry.target) || []) f(entry.isIntersecting);
      }
    }, { rootMargin: NEAR_VIEW });
  }
  if (!nearWatchers.has(el)) {
    nearWatchers.set(el, []);
    nearObserver.observe(el);
  }
  nearWatchers.get(el).push(fn);
  // The observer reports an element once when first observed: a later watcher (e.g. a chart's
  // data loaded when its container is near, the container already watched by the chart) gets
  // the state it reported.
  if (nearState.has(el)) queueMicrotask(() => fn(nearState.get(el)));
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

// ---- holding draws -------------------------------------------------------------------------------

const holds = new Set();
const charts = []; // every chart of the page, in creation order (= drawing priority)

// Every chart's draws wait until the promise settles (fulfilled or not); then each chart with
// news draws once. Returns the promise.
export function holdDraws(promise) {
  const token = {};
  holds.add(token);
  const release = () => {
    holds.delete(token);
    if (!holds.size) for (const chart of charts) if (chart.dirty) chart.schedule();
  };
  Promise.resolve(promise).then(release, release);
  return promise;
}

export const drawsHeld = () => holds.size > 0;

// A new chart's place in the drawing order.
export function register(chart) {
  charts.push(chart);
  return charts.length - 1;
}

// ---- one chart per animation frame -----------------------------------------------------------

// Nothing is queued for a frame before Plotly.js has run: otherwise every draw waiting for it
// would run in the one task that follows its load.
const frameQueue = new Set();
let frameRequested = false;

export function queueDraw(chart) {
  frameQueue.add(chart);
  requestFrame();
}

function requestFrame() {
  if (frameRequested) return;
  frameRequested = true;
  const go = () => requestAnimationFrame(drawNextChart);
  if (window.Plotly) go();
  else whenPlotly().then(go, go); // the draw reports a Plotly that never came
}

function drawNextChart() {
  frameRequested = false;
  let chart = null;
  for (const c of frameQueue) if (!chart || c.order < chart.order) chart = c;
  if (chart) {
    frameQueue.delete(chart);
    chart.draw();
  }
  if (frameQueue.size) requestFrame();
}
