// The study page's trade-off charts: one metric against λ (log x-axis), one colour per penalty.
//
// Per penalty: the mean over seeds with ± 1 sample sd as error bars, the min–max over seeds as a
// light band, and each run as a faint dot (click one to open the run). The no-penalty baseline
// has no λ, so it is a horizontal band (mean ± sd) across the whole plot with its mean dashed.
// The best setting (the API's `best`) is starred on the accuracy chart.
//
// Everything drawn comes from the study's per-setting aggregates and each run's final numbers
// (GET /api/studies/<id>): no run's series is fetched, so 100 runs cost about as much as 10.
// A chart redraws only when its data changed. Each container carries data-points (setting
// means drawn, baseline excluded), data-traces, data-runs (run dots), data-penalties and
// data-baseline ("1" when the band is drawn).

import { CONFIG, FONT, GRID, whenPlotly } from "./charts.js";
import { plotlyText } from "./plotly_text.js";
import { fmtG, num } from "./format.js";

export const PENALTY_ORDER = ["none", "l1", "l2", "elastic"];
export const PENALTY_LABEL = { none: "none", l1: "L1", l2: "L2", elastic: "elastic net" };
export const PENALTY_COLOR = { none: "#616e7c", l1: "#e15759", l2: "#4e79a7", elastic: "#59a14f" };

export const METRICS = {
  test_accuracy: { title: "test accuracy (%)", tick: ".1%", hover: ".2%", name: "test accuracy" },
  sparsity: { title: "weights with |w| < 10⁻³ (% of all)", tick: ".1%", hover: ".2%", name: "sparsity" },
  l1_norm: { title: "‖W‖₁ = Σ|w| over W1 and W2", tick: "", hover: ".4g", name: "‖W‖₁", logWhenWide: true },
  l2_norm: { title: "‖W‖₂ = √Σw² over W1 and W2", tick: "", hover: ".4g", name: "‖W‖₂", logWhenWide: true },
  gap: { title: "train − test accuracy (% points)", tick: ".1%", hover: ".2%", name: "train − test gap" },
};

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
function dodgeFactors(penalties) {
  const k = penalties.length;
  return Object.fromEntries(penalties.map((p, i) => [p, 10 ** ((i - (k - 1) / 2) * DODGE_DECADES)]));
}

export class TradeoffChart {
  constructor(el, metric, { showBest = false, compact = false } = {}) {
    this.el = el;
    this.compact = compact; // short legend names, for the small charts
    this.metric = metric;
    this.spec = METRICS[metric];
    this.showBest = showBest;
    this.signature = null;
    this.clickBound = false;
    el.dataset.points = "0";
    el.dataset.traces = "0";
    el.dataset.draws = "0";
  }

  // study: the GET /api/studies/<id> answer. Returns a promise that settles when drawn.
  set(study) {
    const settings = (study.settings || []).filter((s) => s.metrics && s.metrics[this.metric]);
    const runs = (study.runs || []).filter((r) => r.metrics && Number.isFinite(num(r.metrics[this.metric])));
    const lams = (study.runs || []).filter((r) => r.settings && r.settings.penalty !== "none").map((r) => num(r.settings.lam));
    const signature = JSON.stringify([settings, runs.map((r) => [r.id, r.metrics[this.metric]]), lams, this.showBest && study.best]);
    if (signature === this.signature) return Promise.resolve(false);
    this.signature = signature;
    return this.draw(settings, runs, lams, study.best);
  }

  async draw(settings, runs, lams, best) {
    const Plotly = await whenPlotly();
    const range = lambdaRange(lams);
    const traces = [];
    const spec = this.spec;
    let points = 0;
    let dots = 0;
    const penalties = [];
    const seeds = Math.max(1, ...runs.map((r) => num(r.settings && r.settings.seed) + 1 - minSeed(runs)));

    // The baseline first, so the penalties draw over it.
    const base = settings.find((s) => s.penalty === "none");
    const baseline = base ? base.metrics[this.metric] : null;
    if (baseline) {
      const x0 = 10 ** range[0];
      const x1 = 10 ** range[1];
      const sd = num(baseline.std) || 0;
      const color = PENALTY_COLOR.none;
      traces.push({
        type: "scatter", mode: "lines", x: [x0, x1], y: [baseline.mean - sd, baseline.mean - sd], uid: "base-low",
        line: { width: 0, color }, hoverinfo: "skip", showlegend: false, legendgroup: "none",
      });
      traces.push({
        type: "scatter", mode: "lines", x: [x0, x1], y: [baseline.mean + sd, baseline.mean + sd], uid: "base-high",
        fill: "tonexty", fillcolor: rgba(color, 0.16), line: { width: 0, color }, hoverinfo: "skip",
        name: "none (no penalty): band = mean ± sd", legendgroup: "none", showlegend: false,
      });
      // The mean, dashed, with points along the whole width so hovering anywhere on it answers.
      const xs = Array.from({ length: 41 }, (_, i) => 10 ** (range[0] + ((range[1] - range[0]) * i) / 40));
      traces.push({
        type: "scatter", mode: "lines", x: xs, y: xs.map(() => baseline.mean), uid: "base-line",
        name: this.compact ? "none" : "none (no penalty): mean ± sd band", legendgroup: "none",
        line: { color, width: 2, dash: "dash" },
        hovertemplate: `no penalty: ${fmtHover(baseline.mean, spec)} ± ${fmtHover(sd, spec)} (sd, n=${baseline.n})` +
          `<br>min–max ${fmtHover(baseline.low, spec)} – ${fmtHover(baseline.high, spec)}<extra>none</extra>`,
      });
    }

    const present = PENALTY_ORDER.slice(1).filter((p) => settings.some((s) => s.penalty === p));
    const dodge = dodgeFactors(present);
    for (const penalty of present) {
      const rows = settings.filter((s) => s.penalty === penalty).sort((a, b) => a.lam - b.lam);
      penalties.push(penalty);
      const color = PENALTY_COLOR[penalty];
      const label = PENALTY_LABEL[penalty];
      const m = rows.map((s) => s.metrics[this.metric]);
      const x = rows.map((s) => s.lam * dodge[penalty]);
      // min–max band, lightly
      traces.push({
        type: "scatter", mode: "lines", uid: `${penalty}-band`, name: `${label} min–max over seeds`,
        x: [...x, ...x.slice().reverse()], y: [...m.map((v) => v.high), ...m.map((v) => v.low).reverse()],
        fill: "toself", fillcolor: rgba(color, 0.1), line: { width: 0, color }, hoverinfo: "skip",
        legendgroup: penalty, showlegend: false,
      });
      // each run, faintly
      const mine = runs.filter((r) => r.settings && r.settings.penalty === penalty);
      dots += mine.length;
      traces.push({
        type: "scatter", mode: "markers", uid: `${penalty}-runs`, name: `${label} runs`, meta: "runs",
        x: mine.map((r) => jitter(num(r.settings.lam) * dodge[penalty], num(r.settings.seed) - minSeed(runs), seeds)),
        y: mine.map((r) => num(r.metrics[this.metric])),
        customdata: mine.map((r) => [r.id, r.settings.seed, fmtG(r.settings.lam, 3)]),
        marker: { color, size: 6, opacity: 0.35, line: { width: 0 } }, legendgroup: penalty, showlegend: false,
        hovertemplate: `run #%{customdata[0]} (seed %{customdata[1]}), λ=%{customdata[2]}<br>${spec.name} %{y:${spec.hover}}<extra>${label}</extra>`,
      });
      // mean ± sd
      points += rows.length;
      traces.push({
        type: "scatter", mode: "lines+markers", uid: `${penalty}-mean`, name: this.compact ? label : `${label}: mean ± sd`,
        x, y: m.map((v) => v.mean), legendgroup: penalty,
        customdata: rows.map((s, i) => [fmtG(s.lam, 3), m[i].std, m[i].n, m[i].low, m[i].high]),
        error_y: { type: "data", array: m.map((v) => num(v.std) || 0), visible: true, color, thickness: 1.5, width: 5 },
        line: { color, width: 2 }, marker: { color, size: 8 },
        hovertemplate: `${label} λ=%{customdata[0]}<br>${spec.name} %{y:${spec.hover}} ± %{customdata[1]:${spec.hover}} (sd, n=%{customdata[2]})` +
          `<br>min–max %{customdata[3]:${spec.hover}} – %{customdata[4]:${spec.hover}}<extra>${label}</extra>`,
      });
    }

    const annotations = [];
    if (this.showBest && best) {
      const label = PENALTY_LABEL[best.penalty] || plotlyText(best.penalty);
      if (best.penalty === "none") {
        annotations.push({ text: "★ best: no penalty (the band)", x: 0.99, xref: "paper", y: best.accuracy, yref: "y",
          xanchor: "right", yanchor: "bottom", yshift: 4, showarrow: false, font: { color: "#8a5a00", size: 12 } });
      } else {
        traces.push({
          type: "scatter", mode: "markers", uid: "best", name: `★ best: ${label} λ=${fmtG(best.lam, 3)}`,
          x: [best.lam * (dodge[best.penalty] || 1)], y: [best.accuracy],
          marker: { symbol: "star", size: 18, color: "#f0b429", line: { color: "#8a5a00", width: 1.5 } },
          hovertemplate: `best: ${label} λ=${fmtG(best.lam, 3)}<br>test accuracy %{y:.2%}<extra></extra>`,
        });
      }
    }

    const all = [...settings.flatMap((s) => [s.metrics[this.metric].low, s.metrics[this.metric].high]), ...runs.map((r) => num(r.metrics[this.metric]))]
      .filter((v) => Number.isFinite(v) && v > 0);
    const logY = spec.logWhenWide && all.length && Math.max(...all) / Math.min(...all) > 100;
    const empty = !settings.length;
    const layout = {
      autosize: true,
      uirevision: "keep",
      margin: { l: 68, r: 16, t: 8, b: 52 },
      font: FONT,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      hovermode: "closest",
      showlegend: !empty,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: this.compact ? 10 : 11 }, ...(this.compact ? { itemwidth: 30, tracegroupgap: 0 } : {}) },
      xaxis: {
        title: { text: "λ (penalty strength, log scale)" }, type: "log", range, autorange: false,
        gridcolor: GRID, zeroline: false, exponentformat: "power",
        ...(range[1] - range[0] >= 2 ? { dtick: 1 } : {}),
      },
      yaxis: {
        title: { text: this.spec.title + (logY ? ", log scale" : "") }, type: logY ? "log" : "linear",
        gridcolor: GRID, zeroline: false, ...(spec.tick && !logY ? { tickformat: spec.tick } : {}),
      },
      annotations: empty
        ? [{ text: "Waiting for the first finished run…", showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5,
          font: { size: 14, color: "#7b8794" } }]
        : annotations,
    };
    await Plotly.react(this.el, traces, layout, CONFIG);
    if (!this.clickBound && this.el.on) {
      this.clickBound = true;
      this.el.on("plotly_click", (event) => {
        const point = event && event.points && event.points[0];
        if (point && point.data && point.data.meta === "runs" && point.customdata) location.assign(`/runs/${point.customdata[0]}`);
      });
    }
    this.el.dataset.points = String(points);
    this.el.dataset.traces = String(traces.length);
    this.el.dataset.runs = String(dots);
    this.el.dataset.penalties = penalties.join(",");
    this.el.dataset.baseline = baseline ? "1" : "0";
    this.el.dataset.draws = String(Number(this.el.dataset.draws) + 1);
    return true;
  }
}

function minSeed(runs) {
  let min = Infinity;
  for (const r of runs) if (r.settings) min = Math.min(min, num(r.settings.seed));
  return Number.isFinite(min) ? min : 0;
}

// A number in a hover text written by us (not by Plotly's template), in the metric's format.
function fmtHover(v, spec) {
  const x = num(v);
  if (!Number.isFinite(x)) return "—";
  if (spec.hover.endsWith("%")) return `${(x * 100).toFixed(2)} %`;
  return fmtG(x, 4);
}
