// A study's page (/studies/<id>): progress, the best setting, the trade-off charts, the table per
// setting and the runs. It fills in as runs finish.
//
// Cheap by design: one request (GET /api/studies/<id>: status counts, per-setting aggregates, the
// best setting with and without a penalty, and each run's final numbers, never a run's series),
// made when the socket says a run of this study changed (at most once a second), and every 2 s
// while a run is queued or running, since the progress of running runs changes without a notice.
// Charts redraw only when their data changed; table rows are updated in place.

import { api } from "./api.js";
import { TradeoffChart } from "./charts/tradeoff.js";
import { $, el, readJson, setText } from "./dom.js";
import { describeSpec, fmtAccuracy, fmtDuration, fmtG, fmtLambda, fmtPoints, fmtSparsity, num, penaltyLabel, runSeconds } from "./format.js";
import { StudyInsight } from "./insight/study_insight.js";
import { pageStream } from "./page.js";
import { mountRecipe } from "./recipe_marks.js";
import { StudyActions } from "./study_actions.js";

const initial = readJson("study-data");
const studyId = initial.id;
const POLL_MS = 2000;
const MIN_GAP_MS = 1000;

const charts = [
  new TradeoffChart($("#tradeoff-accuracy"), "test_accuracy", { showBest: true }),
  new TradeoffChart($("#tradeoff-sparsity"), "sparsity", { compact: true }),
  new TradeoffChart($("#tradeoff-gap"), "gap", { compact: true }),
  new TradeoffChart($("#tradeoff-l1"), "l1_norm", { compact: true }),
  new TradeoffChart($("#tradeoff-l2"), "l2_norm", { compact: true }),
];

const recipe = mountRecipe(charts[0]); // a recipe's verdicts, and its published values on the accuracy chart

let study = null;
// The insight views; a study it asks for (a new effect for the seeds needed) is shown like any other.
const insight = new StudyInsight(studyId, {
  onStudy: (answer) => {
    study = answer;
    render();
  },
});
const actions = new StudyActions({ studyId, cancelButton: $("#study-cancel"), deleteButton: $("#study-delete"),
  status: $("#study-actions-status"), onCancelled: () => requestRefresh(0) });
const ticked = new Set();
const runRows = new Map(); // id → {tr, cells}
const settingRows = new Map(); // key → {tr, cells}

// ---- progress -------------------------------------------------------------------------------------

function renderProgress() {
  const runs = study.runs || [];
  const counts = study.counts || {};
  const c = {
    completed: counts.completed || 0, running: counts.running || 0, queued: counts.queued || 0,
    failed: counts.failed || 0, stopped: (counts.cancelled || 0) + (counts.interrupted || 0),
  };
  for (const [key, value] of Object.entries(c)) setText($(`#count-${key}`), String(value));
  setText($("#count-total"), String(runs.length));
  const box = $("#study-progress");
  Object.assign(box.dataset, { total: String(runs.length), ...Object.fromEntries(Object.entries(c).map(([k, v]) => [k, String(v)])) });
  const { fraction, finished } = study.progress;
  const bar = $("#study-progress-bar");
  bar.value = fraction;
  bar.setAttribute("aria-valuetext", `${finished} of ${runs.length} runs finished`);
}

// ---- the verdict ----------------------------------------------------------------------------------

function renderVerdict() {
  const runs = study.runs || [];
  const verdict = $("#verdict");
  if (!study.verdict) {
    setText(verdict, runs.some((r) => r.live) ? "Waiting for the first finished run…" : "No run of this study finished.");
    setText($("#verdict-note"), "");
    $("#verdict-compare").hidden = true;
    return;
  }
  setText(verdict, study.verdict);
  const best = study.best || {};
  const notes = [];
  if (best.baseline === null || best.baseline === undefined) notes.push("No no-penalty runs in this study: nothing to compare the best setting with.");
  else if (best.penalty === "none") {
    if (study.best_penalized) notes.push(describePenalized(study.best_penalized));
  } else if (best.exceeds_spread === null) notes.push("One seed per setting: there is no seed-to-seed spread to judge the difference by.");
  const finished = study.counts.completed || 0;
  if (finished < runs.length) notes.push(`So far: ${finished} of ${runs.length} runs completed.`);
  setText($("#verdict-note"), notes.join(" "));
  verdict.dataset.penalty = String(best.penalty ?? "");
  verdict.dataset.lam = String(best.lam ?? "");
  renderPairLink(study.pair);
}

// When no penalty is best: the best penalized setting (the API's best_penalized), and whether its
// shortfall is larger than the seed-to-seed spread.
function describePenalized(top) {
  const judged = top.exceeds_spread === null
    ? "one seed: no spread to judge by"
    : `${top.exceeds_spread ? "larger" : "not larger"} than the seed-to-seed spread (±${fmtPoints(top.spread)})`;
  return `Best with a penalty: ${penaltyLabel(top.penalty)} λ=${fmtLambda(top.lam)} at ${fmtAccuracy(top.accuracy)}, ` +
    `${fmtPoints(top.difference, { sign: true })} against no penalty, ${judged}.`;
}

// A link to compare the weights of the best setting (the best penalized one when no penalty is
// best) with those of the no-penalty run of the same seed: the API's pair.
function renderPairLink(pair) {
  const holder = $("#verdict-compare");
  holder.hidden = !pair;
  if (!pair) return;
  holder.replaceChildren(el("a", { href: `/compare?runs=${pair.baseline},${pair.run}`, id: "compare-best",
    text: `Compare the weights: no penalty (run #${pair.baseline}) vs ${penaltyLabel(pair.penalty)} λ=${fmtLambda(pair.lam)} ` +
      `(run #${pair.run}), seed ${pair.seed}` }));
}

// ---- the table per setting ------------------------------------------------------------------------

const settingKey = (penalty, lam) => `${penalty}:${penalty === "none" ? 0 : num(lam)}`;

function meanSd(spread, fmt) {
  if (!spread) return "—";
  return spread.n > 1 ? `${fmt(spread.mean)} ± ${fmt(spread.std)}` : fmt(spread.mean);
}

// Every setting the study's runs cover (the API's planned, in display order), with the aggregates
// of its finished runs.
function renderSettings() {
  const summaries = new Map((study.settings || []).map((s) => [settingKey(s.penalty, s.lam), s]));
  const rows = study.planned.map((p) => {
    const key = settingKey(p.penalty, p.lam);
    return [key, { ...p, summary: summaries.get(key) }];
  });
  const planned = new Set(rows.map(([key]) => key));
  const best = study.best;
  const bestKey = best ? settingKey(best.penalty, best.lam) : null;
  const tbody = $("#settings-table tbody");
  rows.forEach(([key, row], i) => {
    let entry = settingRows.get(key);
    if (!entry) {
      const cells = {};
      const tr = el("tr", { "data-setting": key, "data-penalty": row.penalty },
        ...["penalty", "lam", "runs", "accuracy", "sparsity", "l1", "l2", "gap", "seconds"].map((name) => {
          cells[name] = el("td", { class: name === "penalty" ? "" : "num", "data-col": name });
          return cells[name];
        }));
      entry = { tr, cells };
      settingRows.set(key, entry);
    }
    if (tbody.children[i] !== entry.tr) tbody.insertBefore(entry.tr, tbody.children[i] || null);
    const m = (row.summary && row.summary.metrics) || {};
    const n = row.summary ? row.summary.runs : 0;
    const isBest = key === bestKey;
    entry.tr.classList.toggle("best", isBest);
    entry.tr.dataset.finished = String(n);
    setText(entry.cells.penalty, `${isBest ? "★ " : ""}${penaltyLabel(row.penalty)}`);
    setText(entry.cells.lam, row.penalty === "none" ? "—" : fmtLambda(row.lam));
    setText(entry.cells.runs, n === row.runs ? String(n) : `${n} of ${row.runs}${row.live ? ` (${row.live} to go)` : ""}`);
    setText(entry.cells.accuracy, meanSd(m.test_accuracy, fmtAccuracy));
    setText(entry.cells.sparsity, meanSd(m.sparsity, fmtSparsity));
    setText(entry.cells.l1, meanSd(m.l1_norm, (v) => fmtG(v, 4)));
    setText(entry.cells.l2, meanSd(m.l2_norm, (v) => fmtG(v, 3)));
    setText(entry.cells.gap, meanSd(m.gap, (v) => fmtPoints(v)));
    setText(entry.cells.seconds, m.seconds ? fmtDuration(m.seconds.mean) : "—");
  });
  for (const [key, entry] of settingRows) {
    if (!planned.has(key)) {
      entry.tr.remove();
      settingRows.delete(key);
    }
  }
}

// ---- the runs -------------------------------------------------------------------------------------

function renderRuns() {
  const tbody = $("#study-runs tbody");
  const runs = study.runs || [];
  runs.forEach((run, i) => {
    const key = String(run.id);
    let entry = runRows.get(key);
    if (!entry) {
      const check = el("input", { type: "checkbox", "aria-label": `Tick run ${key} to compare` });
      check.checked = ticked.has(key);
      check.addEventListener("change", () => {
        if (check.checked) ticked.add(key);
        else ticked.delete(key);
        renderCompareButton();
      });
      const cells = {
        run: el("td", { class: "col-id" }, el("a", { href: `/runs/${key}`, text: `#${key}` }), " ",
          el("span", { class: "run-label-cell" })),
        status: el("td", { "data-col": "status" }),
        penalty: el("td", { "data-col": "penalty" }),
        lam: el("td", { class: "num", "data-col": "lam" }),
        seed: el("td", { class: "num", "data-col": "seed" }),
        accuracy: el("td", { class: "num", "data-col": "accuracy" }),
        sparsity: el("td", { class: "num", "data-col": "sparsity" }),
        dead: el("td", { class: "num", "data-col": "dead" }),
        time: el("td", { class: "num", "data-col": "time" }),
      };
      const tr = el("tr", { "data-run": key }, el("td", { class: "col-select" }, check), ...Object.values(cells));
      entry = { tr, cells, status: null };
      runRows.set(key, entry);
    }
    if (tbody.children[i] !== entry.tr) tbody.insertBefore(entry.tr, tbody.children[i] || null);
    const { cells } = entry;
    const r = run.result || {};
    entry.tr.dataset.status = run.status;
    setText(cells.run.querySelector(".run-label-cell"), run.label || "");
    if (entry.status !== run.status || run.reason !== entry.reason) {
      entry.status = run.status;
      entry.reason = run.reason;
      cells.status.replaceChildren(el("span", { class: `status status-${run.status}`, text: run.status }));
      if (run.reason && run.status !== "completed") cells.status.append(el("span", { class: "reason", text: run.reason }));
    }
    const p = run.progress || {};
    cells.status.title = run.status === "running" && p.total_steps ? `epoch ${p.current_epoch}/${p.epochs}` : "";
    setText(cells.penalty, penaltyLabel(run.settings.penalty));
    setText(cells.lam, run.settings.penalty === "none" ? "—" : fmtLambda(run.settings.lam));
    setText(cells.seed, String(run.settings.seed));
    setText(cells.accuracy, run.live && !Number.isFinite(num(r.test_accuracy)) ? "…" : fmtAccuracy(r.test_accuracy));
    setText(cells.sparsity, Number.isFinite(num(r.sparsity)) ? fmtSparsity(r.sparsity) : "—");
    setText(cells.dead, Number.isFinite(num(r.dead_units)) ? String(r.dead_units) : "—");
    setText(cells.time, fmtDuration(runSeconds(run)));
  });
  const seen = new Set(runs.map((r) => String(r.id)));
  for (const [key, entry] of runRows) {
    if (!seen.has(key)) {
      entry.tr.remove();
      runRows.delete(key);
      ticked.delete(key);
    }
  }
  renderCompareButton();
}

function renderCompareButton() {
  const button = $("#compare-ticked");
  button.disabled = ticked.size === 0;
  button.textContent = ticked.size ? `Compare ticked runs (${ticked.size})` : "Compare ticked runs";
}

$("#compare-ticked").addEventListener("click", () => {
  if (!ticked.size) return;
  const ids = [...ticked].sort((a, b) => Number(a) - Number(b));
  location.assign(`/compare?runs=${ids.join(",")}`);
});

// ---- fetching -------------------------------------------------------------------------------------

let inFlight = false;
let lastStart = 0;
let timer = null;
let timerAt = Infinity;

function requestRefresh(delay) {
  const at = Math.max(performance.now() + delay, lastStart + MIN_GAP_MS);
  if (timer && timerAt <= at) return;
  clearTimeout(timer);
  timerAt = at;
  timer = setTimeout(() => {
    timer = null;
    timerAt = Infinity;
    refresh();
  }, Math.max(0, at - performance.now()));
}

async function refresh() {
  if (inFlight) {
    requestRefresh(MIN_GAP_MS);
    return;
  }
  inFlight = true;
  lastStart = performance.now();
  try {
    study = await api.getStudy(studyId, insight.effect());
    render();
    setText($("#study-status"), "");
  } catch (err) {
    setText($("#study-status"), `Could not load the study: ${err.message}`);
  } finally {
    inFlight = false;
  }
  if (!study || (study.runs || []).some((r) => r.live)) requestRefresh(POLL_MS);
}

function render() {
  setText($("#study-spec"), describeSpec(study.spec));
  renderProgress();
  renderVerdict();
  renderSettings();
  renderRuns();
  const page = $("#study-page");
  const live = (study.runs || []).filter((r) => r.live).length;
  page.dataset.runs = String((study.runs || []).length);
  page.dataset.live = String(live);
  recipe.update(study);
  for (const chart of charts) chart.set(study, live > 0);
  insight.render(study, live > 0);
  actions.update(study);
}

const stream = pageStream();
stream.on("run", (run) => {
  if (Number(run.study) === Number(studyId)) requestRefresh(200);
});
stream.on("runs", () => requestRefresh(200));
stream.on("run_deleted", () => requestRefresh(200));
// `run` messages describe changes made after the socket's hello: look again once it arrived.
stream.on("hello", () => requestRefresh(0));
stream.connect();
setText($("#study-spec"), describeSpec(initial.spec));
refresh();

window.normlab = { stream, charts, insight, refresh: () => refresh() };
