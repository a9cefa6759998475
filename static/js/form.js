// The launch form: one run (POST /api/runs) or a none / L1 / L2 comparison (POST /api/comparisons).
//
// Values are checked here against the server's schema first (schema.js: the same ranges the
// server enforces, so the person gets the reason at once), then the server's answer decides: a
// 400 names a `field`, and its message goes next to that field. Nothing typed is ever cleared.
//
// The form keeps its settings: the last ones in this browser (localStorage), and every setting that
// differs from the defaults in the address bar (/?penalty=l1&lam=1e-4&epochs=5), so a reload shows
// the same form and a link reproduces it. A link's settings win over the kept ones.

import { api, ApiError } from "./api.js";
import { settingNames, settingsInQuery, settingsParams } from "./form_link.js";
import { exactText, fmtG } from "./format.js";
import { comparisonLambdas, limits, settingSpec, settingSpecs } from "./schema.js";
import { queryParams, replaceParams } from "./url_state.js";

const PENALTY_FIELDS = new Set(["penalty", "lam", "lam_l2"]);
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const STORAGE_KEY = "normlab.launch-form";

// Why a choice cannot be used here (a dataset not on this machine: the server's note, with the
// one command that makes it available), or null.
function unavailable(spec, value) {
  const a = spec && spec.availability && spec.availability[value];
  return a && !a.available ? a.note.replaceAll("`", "") : null;
}

// One control's value checked against its schema entry: {value} or {error}.
export function parseControl(control, spec) {
  if (control.dataset.type === "choice" || control.tagName === "SELECT") {
    const problem = unavailable(spec, control.value);
    return problem ? { error: problem } : { value: control.value };
  }
  const text = control.value.trim();
  const type = (spec && spec.type) || control.dataset.type;
  if (text === "") return { error: "required" };
  if (!NUMBER.test(text)) return { error: `not a number: ${text.slice(0, 20)}` };
  const value = Number(text);
  if (!Number.isFinite(value)) return { error: "must be a finite number" };
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

// A choice's hint (e.g. the datasets'): the note of the one chosen, and of every one that cannot be
// used here (with the command that makes it available). Kept up to date as the choice changes.
export function watchAvailability(select) {
  const hint = select && document.getElementById(`${select.id}-hint`);
  if (!hint || !hint.classList.contains("availability")) return;
  const show = () => {
    for (const note of hint.querySelectorAll("[data-choice]")) {
      note.hidden = note.dataset.choice !== select.value && note.dataset.available === "yes";
    }
  };
  select.addEventListener("change", show);
  show();
}

function readSaved() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
    return saved && typeof saved.values === "object" ? saved : null;
  } catch {
    return null; // storage unavailable (private mode) or unreadable: start from the defaults
  }
}

export class LaunchForm {
  constructor(form, { onCreated, status, compareStatus }) {
    this.form = form;
    this.lambdas = comparisonLambdas();
    this.onCreated = onCreated || (() => {});
    this.statuses = { launch: status, compare: compareStatus || status };
    this.penalty = form.querySelector("#f-penalty");
    this.lam = form.querySelector("#f-lam");
    this.advanced = form.querySelector("details.advanced");
    this.autoLam = null; // the λ we filled in ourselves, replaced when the penalty changes
    this.busy = false;
    this.persistTimer = null;

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const action = event.submitter && event.submitter.dataset.action === "compare" ? "compare" : "launch";
      this.submit(action);
    });
    form.addEventListener("input", (event) => this.edited(event.target));
    form.addEventListener("change", (event) => this.edited(event.target));
    if (this.advanced) this.advanced.addEventListener("toggle", () => this.persistSoon());
    if (this.penalty) this.penalty.addEventListener("change", () => this.onPenalty(true));
    const reset = document.getElementById("form-reset");
    if (reset) reset.addEventListener("click", () => this.reset());
    watchAvailability(form.querySelector("#f-dataset"));
    this.restore();
  }

  // ---- keeping the settings ------------------------------------------------------------------

  // A link's settings (the defaults and those), else the ones kept in this browser, else the defaults.
  restore() {
    const given = settingsInQuery(queryParams());
    let keep = false;
    if (given.size) {
      this.fill(given);
      keep = this.checkGiven(given) === 0; // a link's valid settings become the last ones
      if ([...given.keys()].some((name) => !(settingSpec(name) || {}).primary) && this.advanced) this.advanced.open = true;
    } else {
      const saved = readSaved();
      if (saved) {
        for (const [id, text] of Object.entries(saved.values)) {
          const control = this.form.querySelector(`#${CSS.escape(id)}`);
          // A kept choice this server no longer offers is left at its default.
          if (control && typeof text === "string" && (control.tagName !== "SELECT" || [...control.options].some((o) => o.value === text))) {
            this.setControl(control, text);
          }
        }
        if (this.advanced) this.advanced.open = !!saved.advanced;
      }
    }
    this.onPenalty(false);
    this.change(this.form.querySelector("#f-dataset"));
    if (keep) this.persist();
  }

  // Every setting at its default, then `texts` (name → text) over them.
  fill(texts) {
    this.clearAllErrors();
    for (const spec of settingSpecs()) {
      const control = this.form.querySelector(`#f-${CSS.escape(spec.name)}`);
      if (!control) continue;
      const text = texts.has(spec.name) ? texts.get(spec.name) : spec.type === "choice" ? spec.default : exactText(spec.default);
      this.setControl(control, String(text));
    }
    this.autoLam = null;
  }

  setControl(control, text) {
    if (control.tagName !== "SELECT") {
      control.value = text;
      return;
    }
    let option = [...control.options].find((o) => o.value === text);
    if (!option) { // a link naming a choice that does not exist: shown, and refused with the reason
      option = new Option(text, text);
      option.dataset.unknown = "yes";
      control.append(option);
    }
    control.value = text;
  }

  // A link's values are checked at once, so a wrong one says why before anything is launched.
  checkGiven(given) {
    let wrong = 0;
    for (const name of given.keys()) {
      const control = this.form.querySelector(`#f-${CSS.escape(name)}`);
      if (!control) continue;
      const spec = settingSpec(name);
      const unknown = control.tagName === "SELECT" && control.selectedOptions[0] && control.selectedOptions[0].dataset.unknown;
      const parsed = unknown ? { error: `no such choice; choose one of ${spec.choices.join(", ")}` } : parseControl(control, spec);
      if (parsed.error) {
        showFieldError(control, parsed.error);
        wrong += 1;
      }
    }
    this.say("launch", wrong ? `The link's settings: ${wrong === 1 ? "one needs" : `${wrong} need`} fixing.`
      : `Filled in from the link: ${given.size} setting${given.size === 1 ? "" : "s"} differ from the defaults.`, wrong > 0);
    return wrong;
  }

  // Put a run's settings in the form (the table's "Edit"), as its link would.
  apply(settings, what) {
    this.fill(settingsParams(settings));
    this.onPenalty(false);
    this.change(this.form.querySelector("#f-dataset"));
    this.persist();
    this.say("launch", `${what}'s settings are in the form: change any, then launch.`);
    const first = this.form.querySelector("select, input");
    if (first) first.focus();
  }

  reset() {
    this.fill(new Map());
    this.onPenalty(false);
    this.change(this.form.querySelector("#f-dataset"));
    for (const [key, value] of Object.entries({ "c-lam_l1": this.lambdas.l1, "c-lam_l2": this.lambdas.l2 })) {
      const control = this.form.querySelector(`#${key}`);
      if (control) control.value = exactText(value);
    }
    this.persist();
    this.say("launch", "Every setting is back at its default.");
  }

  // The control's own listeners (e.g. its availability hint) see the value set (the event does not
  // bubble: setting it is not an edit).
  change(control) {
    if (control) control.dispatchEvent(new Event("change"));
  }

  persistSoon() {
    clearTimeout(this.persistTimer);
    this.persistTimer = setTimeout(() => this.persist(), 150);
  }

  // Keep the controls' texts in this browser and the valid settings that differ from the defaults
  // in the address bar.
  persist() {
    clearTimeout(this.persistTimer);
    const values = {};
    for (const control of this.form.querySelectorAll("input[name], select[name]")) values[control.id] = control.value;
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify({ values, advanced: !!(this.advanced && this.advanced.open) }));
    } catch {
      /* storage unavailable: the address bar still carries the settings */
    }
    const settings = {};
    for (const control of this.settingsControls()) {
      const parsed = parseControl(control, settingSpec(control.name));
      if (!parsed.error) settings[control.name] = parsed.value;
    }
    replaceParams(settingNames(), settingsParams(settings));
  }

  // ---- the form's behaviour ------------------------------------------------------------------

  edited(control) {
    this.clearError(control);
    // A "Not launched" that the fixes answered goes with the last wrong value.
    if (!this.form.querySelector("[aria-invalid='true']")) {
      for (const status of Object.values(this.statuses)) if (status && status.classList.contains("error")) this.sayTo(status, "", false);
    }
    this.persistSoon();
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
      const referenceLam = p === "l2" ? this.lambdas.l2 : p === "l1" || p === "elastic" ? this.lambdas.l1 : null;
      if (untouched && referenceLam !== null && referenceLam !== undefined) {
        this.lam.value = fmtG(referenceLam);
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

  settingsControls() {
    return this.controls(this.form).filter((c) => c.id.startsWith("f-"));
  }

  // Parse the controls of the run settings (and, for a comparison, its two λ).
  collect(action) {
    const values = {};
    const errors = [];
    for (const control of this.settingsControls()) {
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
    for (const status of Object.values(this.statuses)) if (status) this.sayTo(status, "", false);
    const { values, errors } = this.collect(action);
    if (errors.length) {
      for (const [control, message] of errors) showFieldError(control, message);
      this.focusFirstError();
      this.say(action, `Not launched: ${errors.length === 1 ? "one value needs" : `${errors.length} values need`} fixing.`, true);
      return;
    }
    this.setBusy(true);
    this.say(action, action === "compare" ? "Queueing the comparison…" : "Launching…");
    try {
      const answer = action === "compare" ? await api.compare(values) : await api.createRun(values);
      const runs = action === "compare" ? (answer && answer.runs) || [] : [answer];
      const ids = runs.map((r) => `#${r.id}`).join(", ");
      this.say(action, action === "compare" ? `Comparison queued: runs ${ids}.` : `Run ${ids} queued.`);
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
      this.say(action, "Not launched: the server refused a value (see the field).", true);
    } else {
      this.say(action, `Not launched: ${message}`, true);
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

  // Launch messages go under the Launch button, a comparison's under its own button.
  say(action, text, isError = false) {
    const status = this.statuses[action] || this.statuses.launch;
    if (status) this.sayTo(status, text, isError);
  }

  sayTo(status, text, isError) {
    status.textContent = text;
    status.classList.toggle("error", isError);
  }
}
