// The two live charts of templates/_charts.html (loss per batch, per epoch) with their controls:
// the smoothing slider, the log-scale toggle, the "ignore outliers" toggle and the per-epoch
// chart's full accuracy range, fed per run. Other
// loss charts of the page (e.g. the run page's data + penalty charts) can follow the same
// controls: follow(chart) calls its setSmoothing / setFitQuantiles when they change.

import { $ } from "../dom.js";
import { num } from "../format.js";
import { BatchChart } from "./batch.js";
import { EpochChart } from "./epoch.js";

export class RunCharts {
  // The charts and controls of templates/_charts.html, found by their ids.
  static ofPage() {
    return new RunCharts({
      batchEl: $("#batch-chart"), epochEl: $("#epoch-chart"),
      smoothingInput: $("#smoothing"), smoothingOutput: $("#smoothing-value"), logInput: $("#log-y"),
      fitInput: $("#fit-quantiles"), fullAccuracyInput: $("#accuracy-full"),
    });
  }

  constructor({ batchEl, epochEl, smoothingInput, smoothingOutput, logInput, fitInput, fullAccuracyInput }) {
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
    if (fullAccuracyInput) {
      this.epoch.fullAccuracy = fullAccuracyInput.checked;
      fullAccuracyInput.addEventListener("change", () => this.epoch.setFullAccuracy(fullAccuracyInput.checked));
    }
    if (fitInput) {
      fitInput.addEventListener("change", () => {
        for (const chart of this.followers) chart.setFitQuantiles(fitInput.checked);
      });
    }
  }

  follow(chart) {
    this.followers.push(chart);
    if (this.fitInput) chart.setFitQuantiles(this.fitInput.checked);
    if (chart.setSmoothing && this.smoothingInput) chart.setSmoothing(Number(this.smoothingInput.value));
    return chart;
  }

  has(id) {
    return this.batch.has(id);
  }

  // The run shown ended with nothing (more) to draw: empty charts say `text` instead of waiting.
  setEnded(text) {
    for (const chart of this.followers) chart.setEnded(text);
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

  // Feed a frame entry or a /metrics answer (same column arrays). The start event says the step
  // the run ends at.
  ingest(id, chunk) {
    if (chunk.start && num(chunk.start.total_steps) > 0) this.batch.setLastStep(id, num(chunk.start.total_steps));
    if (chunk.batch) this.batch.append(id, chunk.batch);
    if (chunk.epoch) this.epoch.append(id, chunk.epoch);
  }
}
