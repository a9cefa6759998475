// What a study's weights show, summed up per setting (templates/_study_insight.html), all from
// GET /api/studies/<id>: the prunable fraction against λ (beside the sparsity chart), the
// regularisation path with the active weights and dead inputs against λ, and whether the
// differences are real: the forest plot of the paired comparisons, their table, the seeds needed
// for an effect a person chooses (?effect=), and any two settings a person picks
// (GET /api/studies/<id>/comparison).

import { api } from "../api.js";
import { ForestChart } from "../charts/forest.js";
import { RegPathChart } from "../charts/reg_path.js";
import { TradeoffChart } from "../charts/tradeoff.js";
import { $, el, setText } from "../dom.js";
import { fmtG, fmtPct, fmtPoints, num, settingText } from "../format.js";
import { comparisonHead, comparisonRow } from "./comparison_table.js";

const POINTS = 100; // the effect control is in points; the API takes a fraction of accuracy

// A setting as the comparison endpoint writes it: "none", "l1:0.001" (λ's shortest exact text).
const settingParam = (s) => (s.penalty === "none" ? "none" : `${s.penalty}:${num(s.lam)}`);

export class StudyInsight {
  // onStudy(study): the page shows a study answer asked for here (a new effect).
  constructor(studyId, { onStudy }) {
    this.studyId = studyId;
    this.onStudy = onStudy;
    this.effectValue = undefined; // the last effect the server accepted (undefined: its default)
    this.prunable = new TradeoffChart($("#tradeoff-prunable"), "prunable_fraction", { compact: true });
    this.active = new TradeoffChart($("#tradeoff-active"), "active_weights", { compact: true });
    this.deadInputs = new TradeoffChart($("#tradeoff-dead-inputs"), "dead_inputs", { compact: true });
    this.path = new RegPathChart($("#reg-path-chart"));
    this.forest = new ForestChart($("#forest-chart"));
    this.prunableTuned = null; // made when a setting has fine-tuned curves (drawn hidden, it would be sized wrong)
    this.charts = [this.prunable, this.active, this.deadInputs, this.path, this.forest];
    this.settingsSignature = null;
    this.picked = null; // the last any-two pair asked for, asked again when the effect changes
    this.asking = null; // the effect being asked for
    $("#comparisons-table thead").replaceChildren(comparisonHead());
    $("#pick-result-table thead").replaceChildren(comparisonHead());
    $("#effect-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.changeEffect();
    });
    $("#effect-points").addEventListener("change", () => this.changeEffect());
    $("#pick-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.pick();
    });
  }

  // The effect the page's study requests ask for (undefined: the server's default).
  effect() {
    return this.effectValue;
  }

  render(study, live) {
    for (const chart of [this.prunable, this.active, this.deadInputs]) chart.set(study, live);
    if (!this.prunableTuned && (study.settings || []).some((s) => s.metrics && s.metrics.prunable_fraction_fine_tuned)) {
      $("#prunable-tuned-card").hidden = false;
      this.prunableTuned = new TradeoffChart($("#tradeoff-prunable-tuned"), "prunable_fraction_fine_tuned", { compact: true });
      this.charts.push(this.prunableTuned);
    }
    if (this.prunableTuned) this.prunableTuned.set(study, live);
    this.path.set(study.regularisation_path);
    this.forest.set(study.comparisons);
    this.renderTable(study.comparisons || []);
    this.renderPower(study.power_analysis);
    this.renderPicker(study.settings || []);
  }

  renderTable(comparisons) {
    const tbody = $("#comparisons-table tbody");
    tbody.replaceChildren(...comparisons.map((c) => comparisonRow(c)));
    $("#comparisons-table").dataset.rows = String(comparisons.length);
    setText($("#comparisons-empty"), comparisons.length ? ""
      : "No comparison yet: each needs finished no-penalty runs and penalized runs of the same seeds.");
  }

  renderPower(power) {
    if (!power) return;
    const input = $("#effect-points");
    if (document.activeElement !== input && !input.getAttribute("aria-invalid")) input.value = fmtG(num(power.effect) * POINTS, 6);
    $("#power-note").dataset.effect = String(power.effect);
    setText($("#power-note"), `Seeds needed: how many seeds a paired t-test needs to detect a difference of ` +
      `${fmtPoints(power.effect, { unit: "points" })} at α = ${fmtG(power.alpha)} with ${fmtPct(power.power, 0)} power, ` +
      "given each setting's seed-to-seed spread of differences so far.");
  }

  // Ask for the study again with the effect typed in; the server judges it (a 400 names `effect`).
  async changeEffect() {
    const input = $("#effect-points");
    const text = input.value.trim();
    if (input.validity.badInput) {
      this.showEffectError("Effect: type a number of points, e.g. 1 for one point of test accuracy.");
      return;
    }
    const effect = text === "" ? undefined : String(Number(text) / POINTS);
    // Enter both submits the form and commits the value (a change event): ask once.
    if (this.asking === effect) return;
    this.asking = effect;
    try {
      const study = await api.getStudy(this.studyId, effect);
      this.effectValue = effect;
      this.showEffectError("");
      this.onStudy(study);
      if (this.picked) this.pick(this.picked);
    } catch (err) {
      this.showEffectError(err.field === "effect"
        ? `Effect of ${text} points (${effect} as a fraction of accuracy): ${err.message}`
        : `Could not load the study: ${err.message}`);
    } finally {
      this.asking = null;
    }
  }

  showEffectError(message) {
    const input = $("#effect-points");
    setText($("#effect-error"), message);
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  // The settings with finished runs, as the two pickers' options (rebuilt only when they change).
  renderPicker(settings) {
    const options = settings.map((s) => ({ value: settingParam(s), text: settingText(s.penalty, s.lam) }));
    const signature = JSON.stringify(options);
    if (signature === this.settingsSignature) return;
    this.settingsSignature = signature;
    const a = $("#pick-a");
    const b = $("#pick-b");
    const keep = [a.value, b.value];
    for (const select of [a, b]) {
      select.replaceChildren(...options.map((o) => el("option", { value: o.value, text: o.text })));
    }
    const values = options.map((o) => o.value);
    a.value = values.includes(keep[0]) && keep[0] ? keep[0] : values.find((v) => v !== "none") || values[0] || "";
    b.value = values.includes(keep[1]) && keep[1] ? keep[1] : values.includes("none") ? "none" : values[1] || "";
    $("#pick-submit").disabled = options.length < 2;
  }

  async pick(pair = { a: $("#pick-a").value, b: $("#pick-b").value }) {
    this.picked = pair;
    const status = $("#pick-status");
    const result = $("#pick-result");
    setText(status, "Comparing…");
    status.classList.remove("error");
    try {
      const answer = await api.comparison(this.studyId, pair.a, pair.b, this.effectValue);
      const c = answer.comparison;
      $("#pick-result-table tbody").replaceChildren(comparisonRow(c, { phrase: true }));
      result.hidden = false;
      Object.assign(result.dataset, { a: pair.a, b: pair.b, seedsNeeded: String(c.seeds_needed ?? ""), effect: String(answer.power_analysis.effect) });
      setText(status, "");
    } catch (err) {
      result.hidden = true;
      // The server names the field (a, b or effect) and lists the study's settings.
      const field = { a: "The first setting", b: "The second setting", effect: "The effect" }[err.field];
      setText(status, field ? `${field} ${err.message}` : err.message);
      status.classList.add("error");
    }
  }
}
