// A study's page (/studies/<id>): progress, the best setting, the trade-off charts, the table per
// setting and the runs. It fills in as runs finish.
//
// Cheap by design: one request (GET /api/studies/<id>: per-setting aggregates and each run's
// final numbers, never a run's series), made when the socket says a run of this study changed
// (at most once a second), and every 2 s while a run is queued or running in case a notice is
// missed. Charts redraw only when their data changed; table rows are updated in place.

import { api } from "./api.js";
import { el, fmtDuration, fmtG, fmtPct, isLive, num, runSeconds, setText } from "./format.js";
import { pageStream } from "./shared.js";
import { PENALTY_LABEL, PENALTY_ORDER, TradeoffChart } from "./tradeoff.js";

const $ = (selector) => document.querySelector(selector);

const initial = JSON.parse($("#study-data").textContent);
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

let study = null;
const ticked = new Set();
const runRows = new Map(); // id → {tr, cells}
const settingRows = new Map(); // key → {tr, cells}

// ---- the spec line ------------------------------------------------------------------------------

function describeSpec(spec) {
  if (!spec) return "";
  const byPenalty = spec.lams_by_penalty || {};
  const parts = (spec.penalties || []).map((p) => {
    if (p === "none") return "no penalty";
    const lams = byPenalty[p] || spec.lams || [];
    return `${PENALTY_LABEL[p] || p} at λ = ${lams.map((v) => fmtG(v, 3)).join(", ")}`;
  });
  const s = spec.settings || {};
  const setup = [
    s.dataset, s.train_size !== undefined ? `${s.train_size} training examples` : null,
    s.hidden !== undefined ? `${s.hidden} hidden units (${s.activation || "sigmoid"})` : null,
    s.epochs !== undefined ? `${s.epochs} epochs` : null, s.batch_size !== undefined ? `batch ${s.batch_size}` : null,
    s.lr !== undefined ? `lr ${fmtG(s.lr)}` : null,
  ].filter(Boolean).join(", ");
  const seeds = spec.seeds === 1 ? "1 seed" : `${spec.seeds} seeds (${s.seed ?? 0} … ${(s.seed ?? 0) + spec.seeds - 1})`;
  return `${parts.join("; ")} · ${seeds} per setting · ${setup}`;
}

// ---- progress -------------------------------------------------------------------------------------

function renderProgress() {
  const runs = study.runs || [];
  const c = { completed: 0, running: 0, queued: 0, failed: 0, stopped: 0 };
  let done = 0;
  for (const run of runs) {
    if (run.status === "cancelled" || run.status === "interrupted") c.stopped += 1;
    else if (c[run.status] !== undefined) c[run.status] += 1;
    if (!isLive(run.status)) done += 1;
    else if (run.status === "running" && run.progress && num(run.progress.total_steps) > 0) {
      done += Math.min(1, num(run.progress.step) / num(run.progress.total_steps));
    }
  }
  for (const [key, value] of Object.entries(c)) setText($(`#count-${key}`), String(value));
  setText($("#count-total"), String(runs.length));
  const box = $("#study-progress");
  Object.assign(box.dataset, { total: String(runs.length), ...Object.fromEntries(Object.entries(c).map(([k, v]) => [k, String(v)])) });
  const bar = $("#study-progress-bar");
  bar.max = Math.max(1, runs.length);
  bar.value = done;
  bar.setAttribute("aria-valuetext", `${c.completed + c.failed + c.stopped} of ${runs.length} runs finished`);
}

// ---- the verdict ----------------------------------------------------------------------------------

function renderVerdict() {
  const runs = study.runs || [];
  const finished = runs.filter((r) => r.status === "completed").length;
  const verdict = $("#verdict");
  if (!study.verdict) {
    setText(verdict, runs.some((r) => isLive(r.status)) ? "Waiting for the first finished run…" : "No run of this study finished.");
    setText($("#verdict-note"), "");
    $("#verdict-compare").hidden = true;
    return;
  }
  setText(verdict, study.verdict);
  const best = study.best || {};
  const notes = [];
  if (best.baseline === null || best.baseline === undefined) notes.push("No no-penalty runs in this study: nothing to compare the best setting with.");
  else if (best.penalty === "none") {
    const runnerUp = bestPenalized();
    if (runnerUp) notes.push(runnerUp);
  }
  else if (best.exceeds_spread === null) notes.push("One seed per setting: there is no seed-to-seed spread to judge the difference by.");
  if (finished < runs.length) notes.push(`So far: ${finished} of ${runs.length} runs completed.`);
  setText($("#verdict-note"), notes.join(" "));
  verdict.dataset.penalty = String(best.penalty ?? "");
  verdict.dataset.lam = String(best.lam ?? "");
  renderPairLink(best);
}

// When no penalty is best: the best penalized setting, and whether its shortfall is larger than
// the seed-to-seed spread (the same rule as the verdict: more than the larger sd of the two).
function bestPenalized() {
  const settings = study.settings || [];
  const base = settings.find((s) => s.penalty === "none");
  const scored = settings.filter((s) => s.penalty !== "none" && s.metrics && s.metrics.test_accuracy);
  if (!base || !base.metrics.test_accuracy || !scored.length) return null;
  const top = scored.reduce((a, b) => (b.metrics.test_accuracy.mean > a.metrics.test_accuracy.mean ? b : a));
  const acc = top.metrics.test_accuracy;
  const ref = base.metrics.test_accuracy;
  const diff = acc.mean - ref.mean;
  const spread = Math.max(acc.std, ref.std);
  const judged = Math.min(acc.n, ref.n) > 1
    ? `${Math.abs(diff) > spread ? "larger" : "not larger"} than the seed-to-seed spread (±${(spread * 100).toFixed(2)} points)` : "one seed: no spread to judge by";
  return `Best with a penalty: ${PENALTY_LABEL[top.penalty] || top.penalty} λ=${fmtG(top.lam, 3)} at ${fmtPct(acc.mean, 2)}, ` +
    `${diff >= 0 ? "+" : "−"}${Math.abs(diff * 100).toFixed(2)} points against no penalty, ${judged}.`;
}

// A link to compare the best setting's run with the no-penalty run of the same seed.
function renderPairLink(best) {
  const holder = $("#verdict-compare");
  const done = (study.runs || []).filter((r) => r.status === "completed");
  const pick = (penalty, lam, seed) => done.find((r) => r.settings.penalty === penalty && (penalty === "none" || r.settings.lam === lam) && r.settings.seed === seed);
  let pair = null;
  // The best setting, or when that is no penalty, the best penalized one.
  let target = best;
  if (best.penalty === "none") {
    const top = (study.settings || []).filter((x) => x.penalty !== "none" && x.metrics && x.metrics.test_accuracy)
      .reduce((a, b) => (!a || b.metrics.test_accuracy.mean > a.metrics.test_accuracy.mean ? b : a), null);
    target = top ? { penalty: top.penalty, lam: top.lam } : {};
  }
  if (target.penalty && target.penalty !== "none") {
    for (const run of done) {
      if (run.settings.penalty !== target.penalty || run.settings.lam !== target.lam) continue;
      const other = pick("none", 0, run.settings.seed);
      if (other) {
        pair = [other, run];
        break;
      }
    }
  }
  if (!pair) {
    holder.hidden = true;
    return;
  }
  const [a, b] = pair;
  holder.replaceChildren(el("a", { href: `/compare?runs=${a.id},${b.id}`, id: "compare-best",
    text: `Compare the weights: no penalty (run #${a.id}) vs ${PENALTY_LABEL[target.penalty] || target.penalty} λ=${fmtG(target.lam, 3)} (run #${b.id}), seed ${b.settings.seed}` }));
  holder.hidden = false;
}

// ---- the table per setting ------------------------------------------------------------------------

const settingKey = (penalty, lam) => `${penalty}:${penalty === "none" ? 0 : num(lam)}`;

function meanSd(spread, fmt) {
  if (!spread) return "—";
  return spread.n > 1 ? `${fmt(spread.mean)} ± ${fmt(spread.std)}` : fmt(spread.mean);
}

function renderSettings() {
  // Every planned setting (from the runs), with the aggregates of those that have finished runs.
  const planned = new Map();
  for (const run of study.runs || []) {
    const key = settingKey(run.settings.penalty, run.settings.lam);
    if (!planned.has(key)) planned.set(key, { penalty: run.settings.penalty, lam: run.settings.penalty === "none" ? 0 : num(run.settings.lam), total: 0, live: 0, summary: null });
    const row = planned.get(key);
    row.total += 1;
    if (isLive(run.status)) row.live += 1;
  }
  for (const s of study.settings || []) {
    const key = settingKey(s.penalty, s.lam);
    if (!planned.has(key)) planned.set(key, { penalty: s.penalty, lam: s.lam, total: s.runs, live: 0, summary: null });
    planned.get(key).summary = s;
  }
  const rows = [...planned.entries()].sort(([, a], [, b]) =>
    PENALTY_ORDER.indexOf(a.penalty) - PENALTY_ORDER.indexOf(b.penalty) || a.lam - b.lam);
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
    setText(entry.cells.penalty, `${isBest ? "★ " : ""}${PENALTY_LABEL[row.penalty] || row.penalty}`);
    setText(entry.cells.lam, row.penalty === "none" ? "—" : fmtG(row.lam, 3));
    setText(entry.cells.runs, n === row.total ? String(n) : `${n} of ${row.total}${row.live ? ` (${row.live} to go)` : ""}`);
    setText(entry.cells.accuracy, meanSd(m.test_accuracy, (v) => fmtPct(v, 2)));
    setText(entry.cells.sparsity, meanSd(m.sparsity, (v) => fmtPct(v, 1)));
    setText(entry.cells.l1, meanSd(m.l1_norm, (v) => fmtG(v, 4)));
    setText(entry.cells.l2, meanSd(m.l2_norm, (v) => fmtG(v, 3)));
    setText(entry.cells.gap, meanSd(m.gap, (v) => `${(v * 100).toFixed(2)} pp`));
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
    let statusText = "";
    if (run.status === "running" && run.progress && run.progress.total_steps) {
      statusText = `epoch ${Math.min(run.progress.epochs, num(run.progress.epoch) + 1)}/${run.progress.epochs}`;
    }
    cells.status.title = statusText;
    setText(cells.penalty, PENALTY_LABEL[run.settings.penalty] || run.settings.penalty);
    setText(cells.lam, run.settings.penalty === "none" ? "—" : fmtG(run.settings.lam, 3));
    setText(cells.seed, String(run.settings.seed));
    setText(cells.accuracy, isLive(run.status) && !Number.isFinite(num(r.test_accuracy)) ? "…" : fmtPct(r.test_accuracy, 2));
    setText(cells.sparsity, Number.isFinite(num(r.sparsity)) ? fmtPct(r.sparsity, 1) : "—");
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
    study = await api.getStudy(studyId);
    render();
    setText($("#study-status"), "");
  } catch (err) {
    setText($("#study-status"), `Could not load the study: ${err.message}`);
  } finally {
    inFlight = false;
  }
  if (!study || (study.runs || []).some((r) => isLive(r.status))) requestRefresh(POLL_MS);
}

function render() {
  setText($("#study-spec"), describeSpec(study.spec));
  renderProgress();
  renderVerdict();
  renderSettings();
  renderRuns();
  const page = $("#study-page");
  page.dataset.runs = String((study.runs || []).length);
  page.dataset.live = String((study.runs || []).filter((r) => isLive(r.status)).length);
  scheduleCharts(Number(page.dataset.live) > 0);
}

// The five charts redraw one per animation frame (each Plotly draw is its own short task, so the
// page never stalls for all five at once), and at most every CHART_GAP_MS while runs are still
// finishing (a 100-run study would otherwise redraw them every second); at once when none is left.
const CHART_GAP_MS = 2500;
let chartTimer = null;
let chartsDrawn = -Infinity;
let chartsBusy = false; // drawing now
let chartsAgain = false; // data came in while drawing: draw again after

function scheduleCharts(live) {
  if (chartsBusy) {
    chartsAgain = true;
    return;
  }
  if (chartTimer) {
    if (live) return; // the pending draw will use the latest data
    clearTimeout(chartTimer); // nothing left to wait for: draw now
  }
  const wait = live ? Math.max(0, chartsDrawn + CHART_GAP_MS - performance.now()) : 0;
  chartTimer = setTimeout(drawCharts, wait);
}

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));

async function drawCharts() {
  chartTimer = null;
  chartsBusy = true;
  chartsAgain = false;
  chartsDrawn = performance.now();
  try {
    for (const chart of charts) {
      await nextFrame();
      try {
        await chart.set(study);
      } catch (err) {
        console.error("normlab: trade-off chart", err);
      }
    }
  } finally {
    chartsBusy = false;
  }
  if (chartsAgain) scheduleCharts(Number($("#study-page").dataset.live) > 0);
}

const stream = pageStream();
stream.on("run", (run) => {
  if (Number(run.study) === Number(studyId)) requestRefresh(200);
});
stream.on("runs", () => requestRefresh(200));
stream.on("run_deleted", () => requestRefresh(200));
stream.on("open", ({ reconnected }) => {
  if (reconnected) requestRefresh(0);
});
stream.connect();
setText($("#study-spec"), describeSpec(initial.spec));
refresh();

window.normlab = { stream, charts, refresh: () => refresh() };
