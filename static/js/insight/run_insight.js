// What a run's weights show, on its page (templates/_run_insight.html): the sampled first-layer
// weights' paths over the epochs (growing live from the frames), the pruning curves and the
// input importance image of a finished run. The pages entry (run_page.js) feeds it the run's
// chunks; it asks /pruning and shares the page's one /weights answer when the sections near the
// view.

import { api } from "../api.js";
import { InputImportanceChart } from "../charts/input_importance.js";
import { priorOverlay, priorVerdict } from "../charts/prior_overlay.js";
import { PruningChart } from "../charts/pruning.js";
import { onceNearView } from "../charts/schedule.js";
import { TrajectoryChart } from "../charts/trajectories.js";
import { $, setText } from "../dom.js";
import { fmtPct, fmtPow10, num, runSettingText } from "../format.js";
import { sparsityThreshold } from "../schema.js";

// One request shared by whoever asks first (e.g. the page's weight images and the importance
// image both need /weights); asked again after a failure.
export function sharedRequest(ask) {
  let pending = null;
  return () => {
    if (!pending) {
      pending = ask();
      pending.catch(() => {
        pending = null;
      });
    }
    return pending;
  };
}

// "12 of 64 sampled weights (19 %) are below |w| < 10⁻³ at epoch 5".
function trajectoryText(summary) {
  if (!summary) return "";
  const t = fmtPow10(sparsityThreshold());
  const share = summary.paths ? summary.below / summary.paths : NaN;
  const when = summary.epoch ? `at epoch ${summary.epoch}` : "at the start";
  return `${summary.below} of ${summary.paths} sampled weights (${fmtPct(share, 0)}) have |w| < ${t} ${when}.`;
}

function pruningText(curve) {
  const pf = curve.prunable_fraction || {};
  const unpruned = curve.accuracy && curve.accuracy.global ? curve.accuracy.global[0] : null;
  let text = `Prunable fraction (the largest p within 1 point of the unpruned ${fmtPct(unpruned, 2)}): ` +
    `${fmtPct(pf.global, 0)} of all weights, ${fmtPct(pf.first_layer, 0)} of the first layer alone.`;
  const tuned = curve.fine_tuned;
  if (tuned && tuned.prunable_fraction) {
    text += ` Fine-tuned ${tuned.steps} steps with the mask held: ${fmtPct(tuned.prunable_fraction.global, 0)} and ` +
      `${fmtPct(tuned.prunable_fraction.first_layer, 0)}.`;
  }
  return text;
}

export class RunInsight {
  // run: the page's view of the run; weights(): the shared /weights request; histograms: the
  // page's weight histograms (W1, W2), which take the fitted priors as an overlay.
  constructor(run, weights, histograms) {
    this.run = run;
    this.weights = weights;
    this.histograms = histograms;
    this.fits = new Map(); // run id → prior_fit
    const name = `#${run.id} ${runSettingText(run)}`;
    this.trajectories = new TrajectoryChart($("#trajectory-chart"), { threshold: sparsityThreshold(), name });
    this.pruning = new PruningChart($("#pruning-chart"));
    this.importance = new InputImportanceChart($("#importance-chart"), { name });
    this.ended = false;
    const toggle = $("#pruning-fine-tuned");
    toggle.addEventListener("change", () => this.pruning.setFineTuned(toggle.checked));
    const priors = $("#prior-overlay");
    priors.addEventListener("change", () => {
      for (const chart of this.histograms) chart.setOverlay(priors.checked ? priorOverlay(this.fits, chart.layer) : null);
    });
    this.see(run);
  }

  // A frame entry or the /metrics answer of this run.
  ingest(chunk) {
    if (chunk.start) this.trajectories.start(chunk.start);
    if (chunk.epoch) this.trajectories.append(chunk.epoch);
    if (chunk.start || chunk.epoch) setText($("#trajectory-share"), trajectoryText(this.trajectories.summary()));
    if (chunk.final) this.end();
  }

  // A new view of the run (an ended run may have no final event: cancelled while queued).
  see(run) {
    this.run = run;
    if (!run.live) this.end();
  }

  // The run ended: its curves and importance (or the server's word on why there are none).
  end() {
    if (this.ended) return;
    this.ended = true;
    setText($("#pruning-note"), "Loading the pruning curve…");
    onceNearView($("#pruning-chart"), () => this.loadPruning());
    onceNearView($("#importance-chart"), () => this.loadImportance());
    onceNearView(this.histograms[0].el, () => this.loadPriors());
  }

  // The prior fits of the final weights: which fits better, and the overlay's toggle.
  async loadPriors() {
    try {
      const answer = await this.weights();
      const fit = answer && answer.prior_fit;
      $("#prior-overlay").disabled = !fit;
      if (!fit) {
        setText($("#prior-summary"), "No prior fit was stored for this run (it did not finish, or an older normlab ran it).");
        return;
      }
      this.fits.set(String(this.run.id), fit);
      setText($("#prior-summary"), `${this.histograms.map((h) => priorVerdict(fit[h.layer], h.layer)).join(". ")}.`);
    } catch (err) {
      setText($("#prior-summary"), `Could not load the prior fits: ${err.message}`);
    }
  }

  async loadPruning() {
    try {
      const curve = await api.pruning(this.run.id);
      this.pruning.set([{ id: this.run.id, name: `#${this.run.id} ${runSettingText(this.run)}`, color: null, curve }]);
      const box = $("#pruning-fine-tuned");
      box.disabled = !curve.fine_tuned;
      box.closest("label").hidden = !curve.fine_tuned;
      setText($("#pruning-note"), pruningText(curve));
    } catch (err) {
      this.pruning.set([]);
      setText($("#pruning-note"), err.message); // the server says why there is none
    }
  }

  async loadImportance() {
    try {
      const answer = await this.weights();
      const values = answer && answer.input_importance;
      this.importance.set(values, answer ? answer.dead_inputs : null);
      const dead = num(answer && answer.dead_inputs);
      setText($("#importance-note"), Array.isArray(values)
        ? `Dead inputs (every outgoing |w| < ${fmtPow10(sparsityThreshold())}): ${Number.isFinite(dead) ? dead : "?"} of ${values.length} pixels.`
        : "No input importance was stored for this run (it did not finish, or an older normlab ran it).");
    } catch (err) {
      setText($("#importance-note"), `Could not load the weights: ${err.message}`);
    }
  }
}
