// The studies page (/studies): launch a study (POST /api/studies) and list the studies.
//
// The form is checked here first (against the server's schema and limits, schema.js), then the
// server decides: a 400 names a `field` (name, penalties, lams, lam_range, seeds, or a run
// setting) and its message goes next to that field. Nothing typed is cleared. After creation the
// study's page opens.

import { api, ApiError } from "./api.js";
import { $, $$, el, readJson, setText } from "./dom.js";
import { parseControl, showFieldError, watchAvailability } from "./form.js";
import { describeSpec, fmtDate, fmtG, penaltyLabel, plural } from "./format.js";
import { logRange, parseLambdaList } from "./lambdas.js";
import { pageStream } from "./page.js";
import { limits, settingSpec, settingSpecs } from "./schema.js";

const presets = readJson("presets-data");
const form = $("#study-form");
const statusLine = $("#study-status");
const LIMITS = limits();
const parseLambdas = (text) => parseLambdaList(text, { min: LIMITS.lam_min, max: LIMITS.lam_max, most: LIMITS.lams_max });

// ---- reading the form --------------------------------------------------------------------------

const checkedPenalties = () => $$('input[name="penalties"]:checked', form).map((c) => c.value);
const lamMode = () => ($('input[name="lam_mode"]:checked', form) || { value: "list" }).value;

function shared() {
  const values = {};
  const errors = [];
  for (const control of $$("[id^='s-']", form).filter((c) => c.name && !c.disabled)) {
    const parsed = parseControl(control, settingSpec(control.name));
    if (parsed.error) errors.push([control, parsed.error]);
    else values[control.name] = parsed.value;
  }
  return { values, errors };
}

// The request body, the errors found here, and the plan (settings and runs).
function collect() {
  const errors = [];
  const body = {};
  const name = $("#st-name").value.trim();
  if (!name) errors.push(["name", "give the study a name"]);
  else if (name.length > LIMITS.label_max) errors.push(["name", `at most ${LIMITS.label_max} characters`]);
  body.name = name;

  const penalties = checkedPenalties();
  if (!penalties.length) errors.push(["penalties", "tick at least one penalty"]);
  body.penalties = penalties;
  const weighted = penalties.filter((p) => p !== "none");

  const seeds = parseControl($("#st-seeds"), { type: "int", min: 1, max: LIMITS.seeds_max });
  if (seeds.error) errors.push(["seeds", seeds.error]);
  else body.seeds = seeds.value;

  const lambdas = {}; // penalty → values, for the plan
  const mode = lamMode();
  if (mode === "list") {
    const parsed = parseLambdas($("#st-lams").value);
    if (weighted.length && parsed.error) errors.push(["lams", parsed.error]);
    body.lams = parsed.values || [];
    for (const p of weighted) lambdas[p] = parsed.values || [];
  } else if (mode === "range") {
    const lam = { type: "float", min: LIMITS.lam_min, max: LIMITS.lam_max };
    const low = parseControl($("#st-lam-low"), lam);
    const high = parseControl($("#st-lam-high"), lam);
    const count = parseControl($("#st-lam-count"), { type: "int", min: 1, max: LIMITS.lams_max });
    const bad = [["from λ", low], ["to λ", high], ["values", count]].find(([, p]) => p.error);
    if (bad) errors.push(["lam_range", `${bad[0]}: ${bad[1].error}`]);
    else if (!(low.value > 0 && low.value <= high.value)) errors.push(["lam_range", `needs ${fmtG(LIMITS.lam_min)} < from ≤ to ≤ ${fmtG(LIMITS.lam_max)}`]);
    else {
      body.lam_range = { low: low.value, high: high.value, count: count.value };
      const values = logRange(low.value, high.value, count.value);
      for (const p of weighted) lambdas[p] = values;
    }
  } else {
    body.lams = {};
    for (const p of weighted) {
      const input = $(`#st-lams-${p}`);
      const parsed = parseLambdas(input ? input.value : "");
      if (parsed.error) errors.push(["lams", `${penaltyLabel(p)}: ${parsed.error}`, input]);
      else {
        body.lams[p] = parsed.values;
        lambdas[p] = parsed.values;
      }
    }
  }

  const settings = shared();
  for (const [control, message] of settings.errors) errors.push([control.name, message, control]);
  body.settings = settings.values;

  const groups = penalties.map((p) => (p === "none" ? 1 : new Set(lambdas[p] || []).size));
  const settingsCount = groups.reduce((a, b) => a + b, 0);
  const plan = { settings: settingsCount, seeds: body.seeds || 0, runs: settingsCount * (body.seeds || 0), penalties, lambdas };
  return { body, errors, plan };
}

// ---- errors next to the fields -------------------------------------------------------------------

function controlFor(field, mode) {
  switch (field) {
    case "name": return [$("#st-name"), null];
    case "seeds": return [$("#st-seeds"), null];
    case "penalties": return [$('input[name="penalties"]', form), $("#st-penalties-error")];
    case "lams":
      return [mode === "per" ? $$(".lam-mode[data-mode=per] input", form).find((c) => !c.disabled) : $("#st-lams"),
        $("#st-lams-error")];
    case "lam_range":
    case "count":
      return [$("#st-lam-low"), $("#st-lam_range-error")];
    case "settings": return [null, $("#st-settings-error")];
    default: {
      const control = form.querySelector(`#s-${CSS.escape(field)}`);
      return control ? [control, null] : [null, null];
    }
  }
}

function showError(field, message, control = null) {
  const [found, slot] = controlFor(field, lamMode());
  const target = control || found;
  if (!target && !slot) return false;
  showFieldError(target, message, slot);
  return true;
}

function clearErrors() {
  for (const node of $$("[aria-invalid]", form)) node.removeAttribute("aria-invalid");
  for (const node of $$(".field.invalid", form)) node.classList.remove("invalid");
  for (const slot of $$(".field-error", form)) slot.textContent = "";
}

function clearErrorOf(target) {
  if (!target || !target.closest) return;
  const wrap = target.closest(".field");
  if (wrap && wrap.classList.contains("invalid")) {
    wrap.classList.remove("invalid");
    const slot = wrap.querySelector(".field-error");
    if (slot) slot.textContent = "";
  }
  target.removeAttribute("aria-invalid");
  const group = target.closest("fieldset.group");
  if (group) {
    for (const slot of $$(":scope > .field-error", group)) slot.textContent = "";
    for (const node of $$("[aria-invalid]", group)) if (!node.closest("[id^='s-']")) node.removeAttribute("aria-invalid");
  }
}

function say(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", isError);
}

// ---- what the form shows ----------------------------------------------------------------------

function syncVisibility() {
  const mode = lamMode();
  const penalties = new Set(checkedPenalties());
  for (const box of $$(".lam-mode", form)) {
    const on = box.dataset.mode === mode;
    box.hidden = !on;
    for (const control of $$("input", box)) control.disabled = !on;
  }
  for (const wrap of $$(".lam-mode[data-mode=per] .field", form)) {
    const on = mode === "per" && penalties.has(wrap.dataset.penalty);
    wrap.hidden = !on;
    for (const control of $$("input", wrap)) control.disabled = !on;
  }
  $("#st-lambdas").classList.toggle("muted", ![...penalties].some((p) => p !== "none"));
}

function showPlan() {
  const { plan, errors } = collect();
  const node = $("#study-plan");
  // Without valid λ values the count would be wrong ("L1 × 0 λ"): say what it waits for instead.
  const lamError = errors.some(([field]) => field === "lams" || field === "lam_range");
  const parts = plan.penalties.map((p) => (p === "none" ? "none" : `${penaltyLabel(p)} × ${new Set(plan.lambdas[p] || []).size} λ`));
  const text = lamError && plan.penalties.some((p) => p !== "none")
    ? "The plan appears once the λ values are valid."
    : plan.runs
      ? `${plan.settings} setting${plan.settings === 1 ? "" : "s"} (${parts.join(", ")}) × ${plural(plan.seeds, "seed")} = ${plural(plan.runs, "run")}`
      : "";
  const tooMany = !lamError && plan.runs > LIMITS.study_max_runs;
  setText(node, tooMany ? `${text} — at most ${LIMITS.study_max_runs} runs are allowed` : text);
  node.classList.toggle("error", tooMany);
  node.dataset.runs = String(lamError ? 0 : plan.runs);
}

function setValue(control, value) {
  if (!control) return;
  if (control.tagName === "SELECT") control.value = String(value);
  else if (control.type === "checkbox" || control.type === "radio") control.checked = !!value;
  else control.value = typeof value === "number" ? fmtG(value, 6) : String(value);
}

function applyPreset(key) {
  const preset = presets[key];
  if (!preset) return;
  clearErrors();
  setValue($("#st-name"), preset.name);
  for (const box of $$('input[name="penalties"]', form)) box.checked = (preset.penalties || []).includes(box.value);
  if (preset.lam_range) {
    $("#st-mode-range").checked = true;
    setValue($("#st-lam-low"), preset.lam_range.low);
    setValue($("#st-lam-high"), preset.lam_range.high);
    setValue($("#st-lam-count"), preset.lam_range.count);
  } else if (preset.lams && !Array.isArray(preset.lams)) {
    $("#st-mode-per").checked = true;
    for (const [p, values] of Object.entries(preset.lams)) setValue($(`#st-lams-${p}`), values.map((v) => fmtG(v, 6)).join(", "));
  } else if (Array.isArray(preset.lams)) {
    $("#st-mode-list").checked = true;
    setValue($("#st-lams"), preset.lams.map((v) => fmtG(v, 6)).join(", "));
  }
  setValue($("#st-seeds"), preset.seeds || 1);
  // Shared settings: the reference setup (the schema's defaults) plus what the preset says.
  for (const s of settingSpecs()) {
    const control = form.querySelector(`#s-${CSS.escape(s.name)}`);
    if (control) setValue(control, (preset.settings || {})[s.name] ?? s.default);
  }
  syncVisibility();
  showPlan();
  say(`Filled in "${preset.name}" at the reference setup; change anything before launching.`);
}

let busy = false;

async function submit() {
  if (busy) return;
  clearErrors();
  const { body, errors, plan } = collect();
  if (!errors.length && plan.runs > LIMITS.study_max_runs) {
    errors.push(["seeds", `this study would have ${plan.runs} runs; at most ${LIMITS.study_max_runs} are allowed`]);
  }
  if (errors.length) {
    for (const [field, message, control] of errors) showError(field, message, control);
    focusFirstError();
    say(`Not launched: ${errors.length === 1 ? "one value needs" : `${errors.length} values need`} fixing.`, true);
    return;
  }
  busy = true;
  form.setAttribute("aria-busy", "true");
  $("#study-launch").disabled = true;
  say(`Queueing ${plan.runs} runs…`);
  try {
    const answer = await api.createStudy(body);
    say(`Study ${answer.id} queued: ${answer.runs.length} runs. Opening its page…`);
    location.assign(`/studies/${answer.id}`);
  } catch (err) {
    const message = err instanceof ApiError ? err.message : String(err);
    if (err instanceof ApiError && err.field && showError(err.field, message)) {
      focusFirstError();
      say("Not launched: the server refused a value (see the field).", true);
    } else {
      say(`Not launched: ${message}`, true);
    }
  } finally {
    busy = false;
    form.setAttribute("aria-busy", "false");
    $("#study-launch").disabled = false;
  }
}

function focusFirstError() {
  const first = form.querySelector("[aria-invalid='true']");
  if (first) first.focus();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
});
// A "Not launched: … need fixing" goes once the last wrong value was changed.
function edited(target) {
  clearErrorOf(target);
  if (statusLine.classList.contains("error") && !form.querySelector("[aria-invalid='true']")) say("");
}

form.addEventListener("input", (event) => {
  edited(event.target);
  showPlan();
});
form.addEventListener("change", (event) => {
  edited(event.target);
  syncVisibility();
  showPlan();
});
watchAvailability($("#s-dataset"));
for (const button of $$("[data-preset]")) button.addEventListener("click", () => applyPreset(button.dataset.preset));
syncVisibility();
showPlan();

// ---- the list of studies ----------------------------------------------------------------------

// A study's runs by status, as GET /api/studies counts them.
const STATUSES = ["completed", "running", "queued", "failed", "cancelled", "interrupted"];

async function refreshList() {
  try {
    const studies = await api.listStudies();
    $("#studies-table tbody").replaceChildren(...studies.map((study) => {
      const counts = study.counts || {};
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      const bits = STATUSES.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`);
      return el("tr", { "data-study": study.id },
        el("td", {}, el("a", { href: `/studies/${study.id}`, class: "study-name", text: study.name })),
        el("td", { class: "spec", text: describeSpec(study.spec, { brief: true }) }),
        el("td", { class: "num", text: String(total) }),
        el("td", { class: "progress-text", text: bits.join(" · ") || "no runs left" }),
        el("td", { text: fmtDate(study.created) }));
    }));
    $("#studies-empty").hidden = studies.length > 0;
    setText($("#studies-status"), "");
  } catch (err) {
    setText($("#studies-status"), `Could not load the studies: ${err.message}`);
  }
}

// Live: run status changes of study runs refresh the list (at most every 2 s).
const stream = pageStream();
let pending = null;
const soon = () => {
  if (!pending) pending = setTimeout(() => { pending = null; refreshList(); }, 2000);
};
stream.on("run", (run) => { if (run.study !== null && run.study !== undefined) soon(); });
stream.on("runs", soon);
// `run` messages describe changes made after the socket's hello: look again once it arrived.
stream.on("hello", () => refreshList());
stream.connect();
refreshList();

window.normlab = { stream, applyPreset, collect };
