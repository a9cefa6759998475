// One run's row of the runs table: a checkbox to overlay its curves in the charts, what it is
// (study, dataset, penalty, λ, …), how it did (★ when the server says it is the best of its
// comparable runs, with whom it was compared in the tooltip) and its actions (cancel, run again,
// edit its settings in the form, delete).

import { armedButton } from "./armed.js";
import { el } from "./dom.js";
import { formLink } from "./form_link.js";
import { colorFor, fmtAccuracy, fmtDuration, fmtFixed, fmtSparsity, lambdaText, num, penaltyName, runLabel, runSeconds } from "./format.js";

export const RUN_SORT_VALUES = {
  id: (r) => Number(r.id),
  status: (r) => r.status || "",
  study: (r) => (r.study === null || r.study === undefined ? "" : String(r.study).padStart(12, "0")),
  dataset: (r) => (r.settings && r.settings.dataset) || "",
  penalty: (r) => penaltyName(r),
  lam: (r) => (r.settings && r.settings.penalty !== "none" ? num(r.settings.lam) : -1),
  hidden: (r) => num(r.settings && r.settings.hidden),
  epochs: (r) => num(r.settings && r.settings.epochs),
  accuracy: (r) => num(r.result && r.result.test_accuracy),
  loss: (r) => num(r.result && r.result.train_loss),
  sparsity: (r) => num(r.result && r.result.sparsity),
  time: (r) => num(runSeconds(r)),
};

export const COLUMNS = 14;

// handlers: {onToggle(id, on), onAction(action, id), studyName(id) → text}
export function createRunRow(run, checked, handlers) {
  const id = String(run.id);
  const check = el("input", { type: "checkbox", id: `show-${id}`, "aria-label": `Show run ${id} in the charts` });
  check.checked = checked;
  check.addEventListener("change", () => handlers.onToggle(id, check.checked));
  const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
  swatch.style.setProperty("--run-color", colorFor(run.id));
  const cell = (col, cls = "") => el("td", { class: cls || null, "data-col": col });
  const cells = {
    check,
    id: el("td", { class: "col-id", "data-col": "id" }, swatch, el("a", { href: `/runs/${id}`, text: `#${id}` }), " ",
      el("span", { class: "run-label-cell" })),
    status: cell("status", "col-status"), study: cell("study"), dataset: cell("dataset"), penalty: cell("penalty"),
    lam: cell("lam", "num"), hidden: cell("hidden", "num"), epochs: cell("epochs", "num"), accuracy: cell("accuracy", "num"),
    loss: cell("loss", "num"), sparsity: cell("sparsity", "num"), time: cell("time", "num"), actions: cell("actions", "col-actions"),
  };
  const tr = el("tr", { "data-run": id, "data-last-seq": "-1" }, el("td", { class: "col-select" }, check),
    ...Object.entries(cells).filter(([key]) => key !== "check").map(([, td]) => td));
  return { kind: "run", tr, run, cells, handlers, status: null };
}

export function renderRunRow(row) {
  const { run, cells, tr } = row;
  const s = run.settings || {};
  const r = run.result || {};
  tr.dataset.status = run.status;
  tr.title = runLabel(run);
  // The run's label when it says more than the penalty columns (a label someone typed, a study's seed).
  const label = run.label && run.label !== runLabel({ settings: run.settings }) ? run.label : "";
  const labelCell = cells.id.querySelector(".run-label-cell");
  if (labelCell.textContent !== label) labelCell.textContent = label;
  if (row.status !== run.status || row.reason !== run.reason) {
    cells.status.replaceChildren(el("span", { class: `status status-${run.status}`, text: run.status }));
    renderReason(row);
    renderActions(row);
    row.status = run.status;
    row.reason = run.reason;
  }
  renderStudy(row);
  cells.dataset.textContent = s.dataset ?? "—";
  cells.penalty.textContent = penaltyName(run);
  cells.lam.textContent = lambdaText(run);
  cells.hidden.textContent = s.hidden ?? "—";
  cells.epochs.textContent = s.epochs ?? "—";
  renderAccuracy(row);
  cells.loss.textContent = fmtFixed(r.train_loss, 4);
  cells.sparsity.textContent = Number.isFinite(num(r.sparsity)) ? fmtSparsity(r.sparsity) : "—";
  cells.time.textContent = fmtDuration(runSeconds(run));
  tr.classList.toggle("live", !!run.live);
  tr.classList.toggle("best", !!run.best);
}

// Why a run ended without finishing, in full (wrapped, its line breaks kept), on a line of its own
// under the run's row: in the status column it would make a tall thin column of every row.
function renderReason(row) {
  const { run } = row;
  const reason = run.reason && run.status !== "completed" ? run.reason : "";
  row.tr.classList.toggle("has-reason", !!reason);
  if (!reason) {
    if (row.note) row.note.remove();
    row.note = null;
    return;
  }
  if (!row.note) {
    row.note = el("tr", { class: "reason-row", "data-reason-for": String(run.id) }, el("td", { class: "col-select" }),
      el("td", { colspan: String(COLUMNS - 1) }, el("span", { class: "reason" })));
  }
  row.note.querySelector(".reason").textContent = `${run.status}: ${reason}`;
}

function renderStudy(row) {
  const study = row.run.study;
  const key = study === null || study === undefined ? "" : String(study);
  if (row.studyKey === key) return;
  row.studyKey = key;
  if (!key) {
    row.cells.study.textContent = "—";
    return;
  }
  const name = row.handlers.studyName(key);
  row.cells.study.replaceChildren(el("a", { href: `/studies/${key}`, class: "study-link", title: name || null,
    text: name ? `${key} · ${name}` : `Study ${key}` }));
}

// The ★ and its tooltip come from the server (`best`, `best_among`): the best test accuracy for
// its penalty among the completed runs comparable with it.
function renderAccuracy(row) {
  const run = row.run;
  const acc = num(run.result && run.result.test_accuracy);
  const cell = row.cells.accuracy;
  cell.replaceChildren();
  if (run.best) {
    cell.append(el("span", { class: "star", "aria-hidden": "true", text: "★ " }),
      el("span", { class: "visually-hidden", text: `best for ${penaltyName(run)} among comparable runs: ` }));
  }
  cell.append(el("span", { class: "acc", text: Number.isFinite(acc) ? fmtAccuracy(acc) : "—" }));
  cell.title = run.best
    ? `★ The best test accuracy among the ${run.best_among || `completed ${penaltyName(run)} runs with the same settings`}`
    : run.live && Number.isFinite(acc) ? "latest epoch (still running)" : "";
}

function renderActions(row) {
  const { run, cells, handlers } = row;
  const id = String(run.id);
  const buttons = [];
  if (run.live) buttons.push(button("Cancel", "cancel", id, `Cancel run ${id}`, handlers));
  buttons.push(button("Rerun", "rerun", id, `Run ${id} again with the same settings`, handlers));
  const edit = el("a", { class: "button small", href: formLink(run.settings || {}), "data-action": "edit",
    "aria-label": `Put run ${id}'s settings in the launch form`, title: "its settings in the launch form, to change before launching", text: "Edit" });
  edit.addEventListener("click", (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return; // a new tab opens the link
    event.preventDefault();
    handlers.onAction("edit", id);
  });
  buttons.push(edit);
  if (!run.live) buttons.push(deleteButton(id, handlers));
  cells.actions.replaceChildren(...buttons);
}

function button(text, action, id, label, handlers) {
  const b = el("button", { type: "button", class: "button small", "data-action": action, "aria-label": label, text });
  b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      await handlers.onAction(action, id);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

function deleteButton(id, handlers) {
  const b = el("button", { type: "button", class: "button small danger", "data-action": "delete",
    "aria-label": `Delete run ${id}`, text: "Delete" });
  return armedButton(b, () => handlers.onAction("delete", id));
}
