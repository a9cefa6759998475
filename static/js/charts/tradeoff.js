// The study page's trade-off charts: one metric against λ (log x-axis), one colour per penalty.
//
// Per penalty: the mean over seeds with ± 1 sample sd as error bars, the min–max over seeds as a
// light band, and each run as a faint dot (click one to open the run). The no-penalty baseline
// has no λ, so it is a horizontal band (mean ± sd) across the whole plot with its mean dashed.
// The best setting (the API's `best`) is starred on the accuracy chart.
//
// Everything drawn comes from the study's per-setting aggregates and each run's final numbers
// (GET /api/studies/<id>): no run's series is fetched, so 100 runs cost about as much as 10. A
// chart redraws only when its data changed, and while runs are still finishing at most every
// LIVE_GAP_MS (a 100-run study would otherwise redraw every second). Drawn whether on screen or
// not. Each container carries data-points (setting means drawn, baseline excluded),
// data-traces, data-runs (run dots), data-penalties and data-baseline ("1" when the band is drawn).

import { fmtAccuracy, fmtG, fmtLambda, fmtPoints, fmtPow10, num, penaltyLabel } from "../format.js";
import { penaltyInfo, penalties, sparsityThreshold } from "../schema.js";
import { Chart, GRID, logTicks, plotlyText } from "./base.js";

const LIVE_GAP_MS = 2500;

// How a metric is drawn: its axis title, tick and hover formats and, for a difference of two
// fractions (the gap), the factor that puts it in percentage points (format.js's convention).
function metricSpec(metric) {
  return {
    test_accuracy: { title: "test accuracy (%)", tick: ".1%", hover: ".2%", name: "test accuracy" },
    sparsity: {
      title: `weights with |w| < ${fmtPow10(sparsityThreshold())} (% of all)`, tick: ".1%", hover: ".2%", name: "sparsity",
    },
    l1_norm: { title: "‖W‖₁ = Σ|w| over W1 and W2", tick: "", hover: ".4g", name: "‖W‖₁", logWhenWide: true },
    l2_norm: { title: "‖W‖₂ = √Σw² over W1 and W2", tick: "", hover: ".4g", name: "‖W‖₂", logWhenWide: true },
    gap: {
      title: "train − test accuracy (pp)", tick: ".1f", suffix: " pp", hover: ".2f", hoverSuffix: " pp",
      name: "train − test gap", scale: 100,
    },
    prunable_fraction: { title: "prunable fraction p (% of weights)", tick: ".0%", hover: ".1%", name: "prunable fraction" },
    prunable_fraction_fine_tuned: {
      title: "prunable fraction p, fine-tuned (%)", tick: ".0%", hover: ".1%", name: "prunable fraction (fine-tuned)",
    },
    active_weights: {
      title: `active weights (|w| ≥ ${fmtPow10(sparsityThreshold())}, count)`, tick: "", hover: ",.0f", name: "active weights",
      logWhenWide: true,
    },
    dead_inputs: { title: "dead inputs (pixels, of 784)", tick: "", hover: ",.0f", name: "dead inputs" },
  }[metric];
}

function rgba(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

// The x range (log10 units) covering every λ of the study, with half a decade either side.
export function lambdaRange(lams) {
  const xs = lams.filter((v) => Number.isFinite(v) && v > 0);
  if (!xs.length) return [-5.5, -0.5];
  const lo = Math.log10(Math.min(...xs));
  const hi = Math.log10(Math.max(...xs));
  const pad = hi - lo < 1 ? 0.5 : 0.35;
  return [lo - pad, hi + pad];
}

// The λ axis's ticks: the study's own λ values when there are a few, labelled as everywhere
// (1e-4); else the powers of ten.
function lambdaTicks(lams, range) {
  const values = [...new Set(lams.filter((v) => Number.isFinite(v) && v > 0))].sort((a, b) => a - b);
  if (values.length && values.length <= 6) {
    return { exponentformat: "power", tickmode: "array", tickvals: values, ticktext: values.map(fmtLambda) };
  }
  return logTicks(10 ** range[0], 10 ** range[1]);
}

// Seeds at one λ would sit on top of each other: spread them a little sideways (±6 % of λ),
// the same way for the same seed everywhere.
function jitter(lam, seed, seeds) {
  if (seeds <= 1) return lam;
  const k = (seed % seeds) / (seeds - 1) - 0.5; // -0.5 … 0.5
  return lam * 10 ** (k * 0.03);
}

// Penalties at the same λ would hide each other's error bars: each is drawn a little to the side
// (0.04 decade apart, about 10 % of λ). Hover texts give the exact λ.
const DODGE_DECADES = 0.04;
function dodgeFactors(names) {
  const k = names.length;
  return Object.fromEntries(names.map((p, i) => [p, 10 ** ((i - (k - 1) / 2) * DODGE_DECADES)]));
}

function minSeed(runs) {
  let min = Infinity;
  for (const r of runs) if (r.settings) min = Math.min(min, num(r.settings.seed));
  return Number.isFinite(min) ? min : 0;
}

// A number in a hover text written by us (not by Plotly's template), in the metric's format.
function fmtHover(v, spec) {
  if (spec.scale) return fmtPoints(v / spec.scale);
  return spec.hover.endsWith("%") ? fmtAccuracy(v) : fmtG(v, 4);
}

// A metric's aggregate ({mean, std, low, high, n}) or value in the units its axis shows.
function scaled(spread, k) {
  if (k === 1) return spread;
  return { ...spread, mean: spread.mean * k, std: num(spread.std) * k, low: spread.low * k, high: spread.high * k };
}

export class TradeoffChart extends Chart {
  constructor(el, metric, { showBest = false, compact = false } = {}) {
    super(el, { offScreen: true });
    this.compact = compact; // short legend names, for the small charts
    this.metric = metric;
    this.spec = metricSpec(metric);
    this.showBest = showBest;
    this.data = null;
    this.live = false;
    this.drawn = null; // what the last draw showed, for the data-* attributes
  }

  // study: the GET /api/studies/<id> answer; live: whether runs of it are still queued or running.
  set(study, live) {
    this.live = live;
    const k = this.spec.scale || 1;
    const metric = this.metric;
    const settings = (study.settings || []).filter((s) => s.metrics && s.metrics[metric])
      .map((s) => ({ ...s, metrics: { ...s.metrics, [metric]: scaled(s.metrics[metric], k) } }));
    const runs = (study.runs || []).filter((r) => r.metrics && Number.isFinite(num(r.metrics[metric])))
      .map((r) => ({ ...r, metrics: { ...r.metrics, [metric]: num(r.metrics[metric]) * k } }));
    const lams = (study.runs || []).filter((r) => r.settings && r.settings.penalty !== "none").map((r) => num(r.settings.lam));
    const best = this.showBest ? study.best : null;
    const signature = JSON.stringify([settings, runs.map((r) => [r.id, r.metrics[this.metric]]), lams, best]);
    if (this.data && signature === this.data.signature) {
      if (!live && this.scheduled) this.schedule(); // nothing is left to wait for: draw now
      return;
    }
    this.data = { signature, settings, runs, lams, best };
    this.schedule();
  }

  ready() {
    return !!this.data;
  }

  drawGap() {
    return this.live ? LIVE_GAP_MS : 0;
  }

  note() {
    return this.data.settings.length ? null : "Waiting for the first finished run…";
  }

  showLegend() {
    return this.data.settings.length > 0;
  }

  traces() {
    const { settings, runs, lams, best } = this.data;
    const range = lambdaRange(lams);
    const spec = this.spec;
    const traces = [];
    const drawn = { points: 0, dots: 0, penalties: [], baseline: false };
    const firstSeed = minSeed(runs);
    const seeds = Math.max(1, ...runs.map((r) => num(r.settings && r.settings.seed) + 1 - firstSeed));

    // The baseline first, so the penalties draw over it.
    const base = settings.find((s) => s.penalty === "none");
    if (base) {
      drawn.baseline = true;
      traces.push(...this.baselineTraces(base.metrics[this.metric], range));
    }

    const present = penalties().map((p) => p.name).filter((p) => p !== "none" && settings.some((s) => s.penalty === p));
    const dodge = dodgeFactors(present);
    for (const penalty of present) {
      const rows = settings.filter((s) => s.penalty === penalty).sort((a, b) => a.lam - b.lam);
      const { color } = penaltyInfo(penalty);
      const label = penaltyLabel(penalty);
      const m = rows.map((s) => s.metrics[this.metric]);
      const x = rows.map((s) => s.lam * dodge[penalty]);
      drawn.penalties.push(penalty);
      const unit = spec.hoverSuffix || "";
      // min–max band, lightly
      traces.push({
        type: "scatter", mode: "lines", uid: `${penalty}-band`, name: `${label} min–max over seeds`,
        x: [...x, ...x.slice().reverse()], y: [...m.map((v) => v.high), ...m.map((v) => v.low).reverse()],
        fill: "toself", fillcolor: rgba(color, 0.1), line: { width: 0, color }, hoverinfo: "skip",
        legendgroup: penalty, showlegend: false,
      });
      // each run, faintly
      const mine = runs.filter((r) => r.settings && r.settings.penalty === penalty);
      drawn.dots += mine.length;
      traces.push({
        type: "scatter", mode: "markers", uid: `${penalty}-runs`, name: `${label} runs`, meta: "runs",
        x: mine.map((r) => jitter(num(r.settings.lam) * dodge[penalty], num(r.settings.seed) - firstSeed, seeds)),
        y: mine.map((r) => num(r.metrics[this.metric])),
        customdata: mine.map((r) => [r.id, r.settings.seed, fmtLambda(r.settings.lam)]),
        marker: { color, size: 6, opacity: 0.35, line: { width: 0 } }, legendgroup: penalty, showlegend: false,
        hovertemplate: `run #%{customdata[0]} (seed %{customdata[1]}), λ=%{customdata[2]}<br>${spec.name} %{y:${spec.hover}}${spec.hoverSuffix || ""}<extra>${label}</extra>`,
      });
      // mean ± sd
      drawn.points += rows.length;
      traces.push({
        type: "scatter", mode: "lines+markers", uid: `${penalty}-mean`, name: this.compact ? label : `${label}: mean ± sd`,
        x, y: m.map((v) => v.mean), legendgroup: penalty,
        customdata: rows.map((s, i) => [fmtLambda(s.lam), m[i].std, m[i].n, m[i].low, m[i].high]),
        error_y: { type: "data", array: m.map((v) => num(v.std) || 0), visible: true, color, thickness: 1.5, width: 5 },
        line: { color, width: 2 }, marker: { color, size: 8 },
        hovertemplate: `${label} λ=%{customdata[0]}<br>${spec.name} %{y:${spec.hover}} ± %{customdata[1]:${spec.hover}}${unit} ` +
          `(sd, n=%{customdata[2]})<br>min–max %{customdata[3]:${spec.hover}} – %{customdata[4]:${spec.hover}}${unit}` +
          `<extra>${label}</extra>`,
      });
    }
    if (best && best.penalty !== "none") {
      const label = plotlyText(penaltyLabel(best.penalty));
      traces.push({
        type: "scatter", mode: "markers", uid: "best", name: `★ best: ${label} λ=${fmtLambda(best.lam)}`,
        x: [best.lam * (dodge[best.penalty] || 1)], y: [best.accuracy],
        marker: { symbol: "star", size: 18, color: "#f0b429", line: { color: "#8a5a00", width: 1.5 } },
        hovertemplate: `best: ${label} λ=${fmtLambda(best.lam)}<br>test accuracy %{y:.2%}<extra></extra>`,
      });
    }
    this.drawn = { ...drawn, traces: traces.length };
    return traces;
  }

  // The no-penalty band (mean ± sd) across the whole width, and its mean dashed, with points
  // along the whole width so hovering anywhere on it answers.
  baselineTraces(baseline, range) {
    const spec = this.spec;
    const x0 = 10 ** range[0];
    const x1 = 10 ** range[1];
    const sd = num(baseline.std) || 0;
    const { color } = penaltyInfo("none");
    const xs = Array.from({ length: 41 }, (_, i) => 10 ** (range[0] + ((range[1] - range[0]) * i) / 40));
    return [
      { type: "scatter", mode: "lines", x: [x0, x1], y: [baseline.mean - sd, baseline.mean - sd], uid: "base-low",
        line: { width: 0, color }, hoverinfo: "skip", showlegend: false, legendgroup: "none" },
      { type: "scatter", mode: "lines", x: [x0, x1], y: [baseline.mean + sd, baseline.mean + sd], uid: "base-high",
        fill: "tonexty", fillcolor: rgba(color, 0.16), line: { width: 0, color }, hoverinfo: "skip",
        name: "none (no penalty): band = mean ± sd", legendgroup: "none", showlegend: false },
      { type: "scatter", mode: "lines", x: xs, y: xs.map(() => baseline.mean), uid: "base-line",
        name: this.compact ? "none" : "none (no penalty): mean ± sd band", legendgroup: "none",
        line: { color, width: 2, dash: "dash" },
        hovertemplate: `no penalty: ${fmtHover(baseline.mean, spec)} ± ${fmtHover(sd, spec)} (sd, n=${baseline.n})` +
          `<br>min–max ${fmtHover(baseline.low, spec)} – ${fmtHover(baseline.high, spec)}<extra>none</extra>` },
    ];
  }

  layout() {
    const { settings, runs, lams, best } = this.data;
    const range = lambdaRange(lams);
    const spec = this.spec;
    const all = [...settings.flatMap((s) => [s.metrics[this.metric].low, s.metrics[this.metric].high]), ...runs.map((r) => num(r.metrics[this.metric]))]
      .filter((v) => Number.isFinite(v) && v > 0);
    const logY = spec.logWhenWide && all.length && Math.max(...all) / Math.min(...all) > 100;
    const layout = this.baseLayout();
    if (!layout.annotations.length && best && best.penalty === "none") {
      layout.annotations = [{ text: "★ best: no penalty (the band)", x: 0.99, xref: "paper", y: best.accuracy, yref: "y",
        xanchor: "right", yanchor: "bottom", yshift: 4, showarrow: false, font: { color: "#8a5a00", size: 12 } }];
    }
    return {
      ...layout,
      margin: { l: 68, r: 16, t: 8, b: 52 },
      legend: { ...layout.legend, font: { size: this.compact ? 10 : 11 }, ...(this.compact ? { itemwidth: 30, tracegroupgap: 0 } : {}) },
      xaxis: {
        title: { text: "λ (penalty strength, log scale)" }, type: "log", range, autorange: false,
        gridcolor: GRID, zeroline: false, ...lambdaTicks(lams, range),
      },
      yaxis: {
        title: { text: spec.title + (logY ? ", log scale" : "") }, type: logY ? "log" : "linear",
        gridcolor: GRID, zeroline: false, ...(spec.tick && !logY ? { tickformat: spec.tick, ticksuffix: spec.suffix || "" } : {}),
        ...(logY ? logTicks(Math.min(...all), Math.max(...all)) : {}),
      },
    };
  }

  afterDraw() {
    if (!this.clickBound && this.el.on) {
      this.clickBound = true;
      this.el.on("plotly_click", (event) => {
        const point = event && event.points && event.points[0];
        if (point && point.data && point.data.meta === "runs" && point.customdata) location.assign(`/runs/${point.customdata[0]}`);
      });
    }
    const d = this.drawn;
    Object.assign(this.el.dataset, {
      points: String(d.points), traces: String(d.traces), runs: String(d.dots),
      penalties: d.penalties.join(","), baseline: d.baseline ? "1" : "0",
    });
  }
}
