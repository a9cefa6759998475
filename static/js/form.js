// The launch form: one run (POST /api/runs) or a none / L1 / L2 comparison (POST /api/comparisons).
//
// Values are checked here against the server's schema first (schema.js: the same ranges the
// server enforces, so the person gets the reason at once), then the server's answer decides: a
// 400 names a `field`, and its message goes next to that field. Nothing typed is ever cleared.

import { api, ApiError } from "./api.js";
import { fmtG } from "./format.js";
import { comparisonLambdas, limits, settingSpec } from "./schema.js";

const PENALTY_FIELDS = new Set(["penalty", "lam", "lam_l2"]);

// One control's value checked against its schema entry: {value} or {error}.
export function parseControl(control, spec) {
  if (control.dataset.type === "choice" || control.tagName === "SELECT") return { value: control.value };
  const text = control.value.trim();
  const type = (spec && spec.type) || control.dataset.type;
  if (text === "") {
    return { error: control.validity && control.validity.badInput ? "not a number" : "required" };
  }
  const value = Number(text);
  if (!Number.isFinite(value)) return { error: "must be a number" };
  if (type === "int" && !Number.isInteger(value)) return { error: "must be a whole number" };
  const min = spec && spec.min !== undefined ? Number(spec.min) : -Infinity;
  const max = spec && spec.max !== undefined ? Number(spec.max) : Infinity;
  if (value < min || value > max) return { error: `must be from ${fmtG(min, 6)} to ${fmtG(max, 10)}, got ${text}` };
  return { value };
}

// Show a message next to a control (its .field wrapper's error slot, or the slot given), and
// open the "Advanced" section it may sit in.
export function showFieldError(control, message, slot = null) {
  const wrap = control ? control.closest(".field") : null;
  const target = slot || (wrap && wrap.querySelector(".field-error"));
  if (control) control.setAttribute("aria-invalid", "true");
  if (wrap) wrap.classList.add("invalid");
  if (target) target.textContent = message;
  const details = (control || target) && (control || target).closest("details");
  if (details) details.open = true;
}

export class LaunchForm {
  constructor(form, { onCreated, status }) {
    this.form = form;
    this.lambdas = comparisonLambdas();
    this.onCreated = onCreated || (() => {});
    this.status = status;
    this.penalty = form.querySelector("#f-penalty");
    this.lam = form.querySelector("#f-lam");
    this.autoLam = null; // the λ we filled in ourselves, replaced when the penalty changes
    this.busy = false;

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const action = event.submitter && event.submitter.dataset.action === "compare" ? "compare" : "launch";
      this.submit(action);
    });
    form.addEventListener("input", (event) => this.clearError(event.target));
    form.addEventListener("change", (event) => this.clearError(event.target));
    if (this.penalty) this.penalty.addEventListener("change", () => this.onPenalty(true));
    this.onPenalty(false);
  }

  // λ only matters for a penalty; λ₂ only for elastic net. Switching to L1 or L2 with λ still 0
  // fills in the reference study's λ for it.
  onPenalty(fill) {
    if (!this.penalty) return;
    const p = this.penalty.value;
    for (const wrap of this.form.querySelectorAll("[data-show-when-penalty]")) {
      this.toggleField(wrap, wrap.dataset.showWhenPenalty === p);
    }
    for (const wrap of this.form.querySelectorAll("[data-hide-when-penalty]")) {
      this.toggleField(wrap, wrap.dataset.hideWhenPenalty !== p);
    }
    if (fill && this.lam) {
      const current = Number(this.lam.value);
      const untouched = this.lam.value === "" || current === 0 || this.lam.value === this.autoLam;
      const seedLam = p === "l2" ? this.lambdas.l2 : p === "l1" || p === "elastic" ? this.lambdas.l1 : null;
      if (untouched && seedLam !== null && seedLam !== undefined) {
        this.lam.value = fmtG(seedLam);
        this.autoLam = this.lam.value;
      }
    }
  }

  toggleField(wrap, on) {
    wrap.hidden = !on;
    for (const control of wrap.querySelectorAll("input, select")) control.disabled = !on;
  }

  controls(scope) {
    return [...scope.querySelectorAll("input[name], select[name]")].filter((c) => !c.disabled);
  }

  // Parse the controls of the run settings (and, for a comparison, its two λ).
  collect(action) {
    const values = {};
    const errors = [];
    const settingsControls = this.controls(this.form).filter((c) => c.id.startsWith("f-"));
    for (const control of settingsControls) {
      if (action === "compare" && PENALTY_FIELDS.has(control.name)) continue;
      const parsed = parseControl(control, settingSpec(control.name));
      if (parsed.error) errors.push([control, parsed.error]);
      else values[control.name] = parsed.value;
    }
    if (action === "compare") {
      for (const control of this.controls(this.form).filter((c) => c.id.startsWith("c-"))) {
        const parsed = parseControl(control, { type: "float", min: limits().lam_min, max: limits().lam_max });
        if (parsed.error) errors.push([control, parsed.error]);
        else values[control.name] = parsed.value;
      }
    }
    return { values, errors };
  }

  async submit(action) {
    if (this.busy) return;
    this.clearAllErrors();
    const { values, errors } = this.collect(action);
    if (errors.length) {
      for (const [control, message] of errors) showFieldError(control, message);
      this.focusFirstError();
      this.say(`Not launched: ${errors.length === 1 ? "one value needs" : `${errors.length} values need`} fixing.`, true);
      return;
    }
    this.setBusy(true);
    this.say(action === "compare" ? "Queueing the comparison…" : "Launching…");
    try {
      const answer = action === "compare" ? await api.compare(values) : await api.createRun(values);
      const runs = action === "compare" ? (answer && answer.runs) || [] : [answer];
      const ids = runs.map((r) => `#${r.id}`).join(", ");
      this.say(action === "compare" ? `Comparison queued: runs ${ids}.` : `Run ${ids} queued.`);
      this.onCreated(runs, action);
    } catch (err) {
      this.onServerError(err, action);
    } finally {
      this.setBusy(false);
    }
  }

  onServerError(err, action) {
    const message = err instanceof ApiError ? err.message : String(err);
    const control = err instanceof ApiError && err.field ? this.controlFor(err.field, action) : null;
    if (control) {
      showFieldError(control, message);
      this.focusFirstError();
      this.say("Not launched: the server refused a value (see the field).", true);
    } else {
      this.say(`Not launched: ${message}`, true);
    }
  }

  // The control a server error's `field` names (a comparison's lam_l2 is its own λ input).
  controlFor(field, action) {
    const ids = action === "compare" ? [`c-${field}`, `f-${field}`] : [`f-${field}`];
    for (const id of ids) {
      const control = this.form.querySelector(`#${CSS.escape(id)}`);
      if (control && !control.disabled) return control;
    }
    return null;
  }

  clearError(control) {
    if (!control || !control.closest) return;
    const wrap = control.closest(".field");
    if (!wrap || !wrap.classList.contains("invalid")) return;
    wrap.classList.remove("invalid");
    control.removeAttribute("aria-invalid");
    const slot = wrap.querySelector(".field-error");
    if (slot) slot.textContent = "";
  }

  clearAllErrors() {
    for (const control of this.form.querySelectorAll("[aria-invalid]")) this.clearError(control);
  }

  focusFirstError() {
    const first = this.form.querySelector("[aria-invalid='true']");
    if (first) first.focus();
  }

  setBusy(on) {
    this.busy = on;
    this.form.setAttribute("aria-busy", on ? "true" : "false");
    for (const b of this.form.querySelectorAll("button[type=submit]")) b.disabled = on;
  }

  say(text, isError = false) {
    if (!this.status) return;
    this.status.textContent = text;
    this.status.classList.toggle("error", isError);
  }
}
