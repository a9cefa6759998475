// The studies page (/studies): launch a study (POST /api/studies) and list the studies.
//
// The form is checked here first (the same ranges as the server), then the server decides: a
// 400 names a `field` (name, penalties, lams, lam_range, seeds, or a run setting) and its
// message goes next to that field. Nothing typed is cleared. After creation the study's page opens.

import { api, ApiError, runsFrom } from "./api.js";
import { parseControl, showFieldError } from "./form.js";
import { logRange, parseLambdaList as parseList } from "./lambdas.js";
import { el, fmtG, setText, toEpochSeconds } from "./format.js";
import { pageStream } from "./shared.js";

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

const schema = JSON.parse($("#schema-data").textContent);
const presets = JSON.parse($("#presets-data").textContent);
const specs = new Map(schema.map((s) => [s.name, s]));
const form = $("#study-form");
const statusLine = $("#study-status");
const LAM = specs.get("lam") || { min: 0, max: 10 };
const MAX_RUNS = 300;
const PENALTY_NAMES = { none: "none", l1: "L1", l2: "L2", elastic: "elastic" };
const parseLambdaList = (text) => parseList(text, { min: Number(LAM.min), max: Number(LAM.max) });

// ---- reading the form --------------------------------------------------------------------------

const checkedPenalties = () => $$('input[name="penalties"]:checked', form).map((c) => c.value);
const lamMode = () => ($('input[name="lam_mode"]:checked', form) || { value: "list" }).value;

function shared() {
  const values = {};
  const errors = [];
  for (const control of $$("[id^='s-']", form).filter((c) => c.name && !c.disabled)) {
    const parsed = parseControl(control, specs.get(control.name));
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
  else if (name.length > 100) errors.push(["name", "at most 100 characters"]);
  body.name = name;

  const penalties = checkedPenalties();
  if (!penalties.length) errors.push(["penalties", "tick at least one penalty"]);
  body.penalties = penalties;
  const weighted = penalties.filter((p) => p !== "none");

  const seeds = parseControl($("#st-seeds"), { type: "int", min: 1, max: 10 });
  if (seeds.error) errors.push(["seeds", seeds.error]);
  else body.seeds = seeds.value;

  const lambdas = {}; // penalty → values, for the plan
  const mode = lamMode();
  if (mode === "list") {
    const parsed = parseLambdaList($("#st-lams").value);
    if (weighted.length && parsed.error) errors.push(["lams", parsed.error]);
    body.lams = parsed.values || [];
    for (const p of weighted) lambdas[p] = parsed.values || [];
  } else if (mode === "range") {
    const low = parseControl($("#st-lam-low"), { type: "float", min: 0, max: Number(LAM.max) });
    const high = parseControl($("#st-lam-high"), { type: "float", min: 0, max: Number(LAM.max) });
    const count = parseControl($("#st-lam-count"), { type: "int", min: 1, max: 20 });
    const bad = [["from λ", low], ["to λ", high], ["values", count]].find(([, p]) => p.error);
    if (bad) errors.push(["lam_range", `${bad[0]}: ${bad[1].error}`]);
    else if (!(low.value > 0 && low.value <= high.value)) errors.push(["lam_range", `needs 0 < from ≤ to ≤ ${fmtG(LAM.max)}`]);
    else {
      body.lam_range = { low: low.value, high: high.value, count: count.value };
      const values = logRange(low.value, high.value, count.value);
      for (const p of weighted) lambdas[p] = values;
    }
  } else {
    body.lams = {};
    for (const p of weighted) {
      const input = $(`#st-lams-${p}`);
      const parsed = parseLambdaList(input ? input.value : "");
      if (parsed.error) errors.push(["lams", `${PENALTY_NAMES[p]}: ${parsed.error}`, input]);
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
  const { plan } = collect();
  const parts = plan.penalties.map((p) => (p === "none" ? "none" : `${PENALTY_NAMES[p]} × ${new Set(plan.lambdas[p] || []).size} λ`));
  const text = plan.runs
    ? `${plan.settings} setting${plan.settings === 1 ? "" : "s"} (${parts.join(", ")}) × ${plan.seeds} seed${plan.seeds === 1 ? "" : "s"} = ${plan.runs} run${plan.runs === 1 ? "" : "s"}`
    : "";
  const node = $("#study-plan");
  setText(node, plan.runs > MAX_RUNS ? `${text} — at most ${MAX_RUNS} runs are allowed` : text);
  node.classList.toggle("error", plan.runs > MAX_RUNS);
  node.dataset.runs = String(plan.runs);
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
  // Shared settings: the seed setup (the schema's defaults) plus what the preset says.
  for (const s of schema) {
    const control = form.querySelector(`#s-${CSS.escape(s.name)}`);
    if (control) setValue(control, (preset.settings || {})[s.name] ?? s.default);
  }
  syncVisibility();
  showPlan();
  say(`Filled in "${preset.name}" at the seed setup; change anything before launching.`);
}

let busy = false;

async function submit() {
  if (busy) return;
  clearErrors();
  const { body, errors, plan } = collect();
  if (!errors.length && plan.runs > MAX_RUNS) errors.push(["seeds", `this study would have ${plan.runs} runs; at most ${MAX_RUNS} are allowed`]);
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
form.addEventListener("input", (event) => {
  clearErrorOf(event.target);
  showPlan();
});
form.addEventListener("change", (event) => {
  clearErrorOf(event.target);
  syncVisibility();
  showPlan();
});
for (const button of $$("[data-preset]")) button.addEventListener("click", () => applyPreset(button.dataset.preset));
syncVisibility();
showPlan();

// ---- the list of studies ----------------------------------------------------------------------

function describeSpec(spec) {
  const penalties = spec.penalties || [];
  const byPenalty = spec.lams_by_penalty || {};
  const parts = penalties.map((p) => {
    if (p === "none") return "none";
    const lams = byPenalty[p] || spec.lams || [];
    return `${PENALTY_NAMES[p] || p} λ ${lams.map((v) => fmtG(v, 3)).join(", ")}`;
  });
  const base = spec.settings || {};
  const setup = [base.dataset, base.hidden !== undefined ? `hidden ${base.hidden}` : null,
    base.epochs !== undefined ? `${base.epochs} epochs` : null].filter(Boolean).join(", ");
  return `${parts.join("; ")} · ${spec.seeds} seed${spec.seeds === 1 ? "" : "s"}${setup ? ` · ${setup}` : ""}`;
}

function plannedRuns(spec) {
  const byPenalty = spec.lams_by_penalty || {};
  const settings = (spec.penalties || []).reduce((n, p) => n + (p === "none" ? 1 : new Set(byPenalty[p] || spec.lams || []).size), 0);
  return settings * (spec.seeds || 1);
}

function fmtDate(value) {
  const t = toEpochSeconds(value);
  if (t === null) return "—";
  return new Date(t * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

async function refreshList() {
  try {
    const [studies, runs] = await Promise.all([api.listStudies(), api.listRuns()]);
    const counts = new Map();
    for (const run of runsFrom(runs)) {
      if (run.study === null || run.study === undefined) continue;
      const c = counts.get(run.study) || { total: 0 };
      c.total += 1;
      c[run.status] = (c[run.status] || 0) + 1;
      counts.set(run.study, c);
    }
    const tbody = $("#studies-table tbody");
    tbody.replaceChildren(...(studies || []).map((study) => {
      const c = counts.get(study.id) || { total: 0 };
      const planned = plannedRuns(study.spec || {});
      const bits = ["completed", "running", "queued", "failed", "cancelled", "interrupted"]
        .filter((s) => c[s]).map((s) => `${c[s]} ${s}`);
      return el("tr", { "data-study": study.id },
        el("td", {}, el("a", { href: `/studies/${study.id}`, class: "study-name", text: study.name })),
        el("td", { class: "spec", text: describeSpec(study.spec || {}) }),
        el("td", { class: "num", text: String(c.total || planned) }),
        el("td", { class: "progress-text", text: bits.join(" · ") || "no runs left" }),
        el("td", { text: fmtDate(study.created) }));
    }));
    $("#studies-empty").hidden = (studies || []).length > 0;
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
stream.on("open", ({ reconnected }) => { if (reconnected) refreshList(); });
stream.connect();
refreshList();

window.normlab = { stream, applyPreset, collect };
