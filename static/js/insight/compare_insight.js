// What the compared runs' weights show (templates/_compare_insight.html): their pruning curves
// overlaid (all layers, and the first layer alone), their input importance images side by side on
// one log colour scale, their sampled weights' paths side by side (runs of one seed follow the
// same 64 weights), and the priors fitted to their weights over the histograms. The page (compare_page.js) hands over each run's /weights and /metrics
// answers; the pruning curves are asked for here, once per finished run.

import { api } from "../api.js";
import { importanceRange, InputImportanceChart } from "../charts/input_importance.js";
import { priorOverlay, priorVerdict } from "../charts/prior_overlay.js";
import { PruningChart } from "../charts/pruning.js";
import { TrajectoryChart } from "../charts/trajectories.js";
import { $, el, setText } from "../dom.js";
import { colorFor, fmtPct, fmtPow10, num, runSettingText } from "../format.js";
import { sparsityThreshold } from "../schema.js";

const runTitle = (run) => `#${run.id} ${runSettingText(run)}`;

export class CompareInsight {
  // runs: the page's views; histograms: its weight histograms (W1, W2), which take the priors.
  constructor(runs, histograms) {
    this.runs = runs;
    this.histograms = histograms;
    this.fits = new Map(); // id → prior_fit
    this.global = new PruningChart($("#cmp-pruning-global"), { scopes: ["global"] });
    this.firstLayer = new PruningChart($("#cmp-pruning-first"), { scopes: ["first_layer"] });
    this.curves = new Map(); // id → the /pruning answer, or an Error
    this.importance = new Map();
    this.trajectories = new Map();
    for (const run of runs) {
      const key = String(run.id);
      this.importance.set(key, new InputImportanceChart($(`#importance-${CSS.escape(key)}`), { name: runTitle(run) }));
      this.trajectories.set(key, new TrajectoryChart($(`#trajectory-${CSS.escape(key)}`),
        { threshold: sparsityThreshold(), name: runTitle(run) }));
    }
    const toggle = $("#cmp-pruning-fine-tuned");
    toggle.addEventListener("change", () => {
      this.global.setFineTuned(toggle.checked);
      this.firstLayer.setFineTuned(toggle.checked);
    });
    const priors = $("#prior-overlay");
    priors.addEventListener("change", () => {
      for (const chart of this.histograms) chart.setOverlay(priors.checked ? priorOverlay(this.fits, chart.layer) : null);
    });
  }

  // runs: the page's views; weights: id → /weights answer; metrics: id → /metrics answer (only
  // the runs asked for again).
  async update(runs, weights, metrics) {
    this.runs = runs;
    this.showImportance(weights);
    this.showPriors(weights);
    for (const [key, answer] of metrics) this.showTrajectories(key, answer);
    await this.loadCurves();
  }

  showImportance(weights) {
    const range = importanceRange([...weights.values()].map((w) => w && w.input_importance));
    for (const run of this.runs) {
      const key = String(run.id);
      const w = weights.get(key);
      const chart = this.importance.get(key);
      if (!chart || !w) continue;
      chart.setRange(range);
      chart.set(w.input_importance, w.dead_inputs);
      const dead = num(w.dead_inputs);
      setText($(`[data-dead-inputs-for="${CSS.escape(key)}"]`), Array.isArray(w.input_importance)
        ? `dead inputs (every outgoing |w| < ${fmtPow10(sparsityThreshold())}): ${Number.isFinite(dead) ? dead : "?"} of ${w.input_importance.length}`
        : run.live ? "still running: the image appears when it finishes" : "no input importance stored (the run did not finish)");
    }
  }

  // Which prior fits each run's weights better, and the overlay's toggle.
  showPriors(weights) {
    this.fits.clear();
    const lines = [];
    for (const run of this.runs) {
      const w = weights.get(String(run.id));
      if (!w || !w.prior_fit) continue;
      this.fits.set(String(run.id), w.prior_fit);
      lines.push(el("li", { text: `${runTitle(run)}: ${this.histograms.map((h) => priorVerdict(w.prior_fit[h.layer], h.layer)).join("; ")}` }));
    }
    $("#prior-overlay").disabled = this.fits.size === 0;
    $("#prior-summary").replaceChildren(...lines);
    for (const chart of this.histograms) if (chart.overlay) chart.schedule();
  }

  showTrajectories(key, answer) {
    const chart = this.trajectories.get(key);
    if (!chart || !answer) return;
    chart.reset();
    chart.start(answer.start);
    chart.append(answer.epoch);
    const s = chart.summary();
    setText($(`[data-trajectory-for="${CSS.escape(key)}"]`), s
      ? `${s.below} of ${s.paths} (${fmtPct(s.below / s.paths, 0)}) have |w| < ${fmtPow10(sparsityThreshold())} at epoch ${s.epoch}`
      : "no sampled weights stored for this run");
  }

  // Each finished run's curves, asked for once; runs without one are named with the server's reason.
  async loadCurves() {
    const wanted = this.runs.filter((r) => !r.live && !this.curves.has(String(r.id)));
    await Promise.all(wanted.map(async (run) => {
      try {
        this.curves.set(String(run.id), await api.pruning(run.id));
      } catch (err) {
        this.curves.set(String(run.id), err);
      }
    }));
    const shown = [];
    const missing = [];
    for (const run of this.runs) {
      const curve = this.curves.get(String(run.id));
      if (!curve) missing.push(`#${run.id}: still running`);
      else if (curve instanceof Error) missing.push(`#${run.id}: ${curve.message}`);
      else shown.push({ id: run.id, name: runTitle(run), color: colorFor(run.id), curve });
    }
    this.global.set(shown);
    this.firstLayer.set(shown);
    const tuned = shown.some((r) => r.curve.fine_tuned);
    const box = $("#cmp-pruning-fine-tuned");
    box.disabled = !tuned;
    box.closest("label").hidden = !tuned;
    setText($("#cmp-pruning-note"), missing.length ? `Not shown: ${missing.join("; ")}` : "");
  }
}
