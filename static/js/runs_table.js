// The runs table: one row per run, sortable by any column, a checkbox per row to overlay the
// run's curves in the charts, ★ on the best completed test accuracy for each penalty, and the
// per-row actions (cancel, delete, run again, open).

import { el } from "./dom.js";
import { colorFor, fmtDuration, fmtFixed, fmtPct, lambdaText, num, penaltyName, runLabel, runSeconds } from "./format.js";

const SORT_VALUES = {
  id: (r) => Number(r.id),
  status: (r) => r.status || "",
  penalty: (r) => penaltyName(r),
  lam: (r) => (r.settings && r.settings.penalty !== "none" ? num(r.settings.lam) : -1),
  hidden: (r) => num(r.settings && r.settings.hidden),
  epochs: (r) => num(r.settings && r.settings.epochs),
  accuracy: (r) => num(r.result && r.result.test_accuracy),
  loss: (r) => num(r.result && r.result.train_loss),
  sparsity: (r) => num(r.result && r.result.sparsity),
  time: (r) => num(runSeconds(r)),
};

export class RunsTable {
  constructor(table, { onToggle, onAction, emptyNote } = {}) {
    this.table = table;
    this.tbody = table.tBodies[0];
    this.onToggle = onToggle || (() => {});
    this.onAction = onAction || (() => {});
    this.emptyNote = emptyNote;
    this.rows = new Map(); // id → {tr, run, cells}
    this.checked = new Set();
    this.sort = { key: "id", dir: -1 };
    for (const th of table.tHead.querySelectorAll("th[data-sort]")) {
      th.querySelector("button").addEventListener("click", () => this.sortBy(th.dataset.sort));
    }
  }

  setRuns(runs) {
    const seen = new Set(runs.map((r) => String(r.id)));
    for (const id of [...this.rows.keys()]) if (!seen.has(id)) this.remove(id);
    for (const run of runs) this.upsert(run, { deferSort: true });
    this.resort();
    this.markBest();
  }

  get(id) {
    const row = this.rows.get(String(id));
    return row ? row.run : null;
  }

  all() {
    return [...this.rows.values()].map((row) => row.run);
  }

  upsert(run, { deferSort = false } = {}) {
    const key = String(run.id);
    let row = this.rows.get(key);
    const isNew = !row;
    if (isNew) {
      row = this.create(run);
      this.rows.set(key, row);
      this.tbody.append(row.tr);
    }
    const statusChanged = isNew || row.run.status !== run.status;
    row.run = run;
    this.render(row, statusChanged);
    if (!deferSort) {
      this.resort();
      this.markBest();
    }
    this.refreshEmpty();
    return isNew;
  }

  setLastSeq(id, seq) {
    const row = this.rows.get(String(id));
    if (row) row.tr.dataset.lastSeq = String(seq);
  }

  remove(id) {
    const key = String(id);
    const row = this.rows.get(key);
    if (!row) return;
    row.tr.remove();
    this.rows.delete(key);
    this.checked.delete(key);
    this.markBest();
    this.refreshEmpty();
  }

  setChecked(id, on) {
    const key = String(id);
    if (on) this.checked.add(key);
    else this.checked.delete(key);
    const row = this.rows.get(key);
    if (row) {
      row.cells.check.checked = on;
      row.tr.classList.toggle("shown", on);
    }
  }

  create(run) {
    const id = String(run.id);
    const check = el("input", { type: "checkbox", id: `show-${id}`, "aria-label": `Show run ${id} in the charts` });
    check.checked = this.checked.has(id);
    check.addEventListener("change", () => this.onToggle(id, check.checked));
    const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
    swatch.style.setProperty("--run-color", colorFor(run.id));
    const link = el("a", { href: `/runs/${id}`, text: `#${id}` });
    const cells = {
      check,
      id: el("td", { class: "col-id", "data-col": "id" }, swatch, link, " ", el("span", { class: "run-label-cell" })),
      status: el("td", { "data-col": "status" }),
      penalty: el("td", { "data-col": "penalty" }),
      lam: el("td", { class: "num", "data-col": "lam" }),
      hidden: el("td", { class: "num", "data-col": "hidden" }),
      epochs: el("td", { class: "num", "data-col": "epochs" }),
      accuracy: el("td", { class: "num", "data-col": "accuracy" }),
      loss: el("td", { class: "num", "data-col": "loss" }),
      sparsity: el("td", { class: "num", "data-col": "sparsity" }),
      time: el("td", { class: "num", "data-col": "time" }),
      actions: el("td", { class: "col-actions", "data-col": "actions" }),
    };
    const tr = el("tr", { "data-run": id, "data-last-seq": "-1" },
      el("td", { class: "col-select" }, check),
      cells.id, cells.status, cells.penalty, cells.lam, cells.hidden, cells.epochs,
      cells.accuracy, cells.loss, cells.sparsity, cells.time, cells.actions);
    return { tr, run, cells };
  }

  render(row, statusChanged) {
    const { run, cells, tr } = row;
    const s = run.settings || {};
    const r = run.result || {};
    tr.dataset.status = run.status;
    tr.title = runLabel(run);
    // The run's label when it says more than the penalty columns (a label someone typed, a study's seed).
    const labelCell = cells.id.querySelector(".run-label-cell");
    const label = run.label && run.label !== runLabel({ settings: run.settings }) ? run.label : "";
    if (labelCell.textContent !== label) labelCell.textContent = label;
    cells.status.replaceChildren(el("span", { class: `status status-${run.status}`, text: run.status }));
    if (run.reason && run.status !== "completed") {
      cells.status.append(el("span", { class: "reason", text: run.reason }));
    }
    cells.penalty.textContent = penaltyName(run);
    cells.lam.textContent = lambdaText(run);
    cells.hidden.textContent = s.hidden ?? "—";
    cells.epochs.textContent = s.epochs ?? "—";
    this.renderAccuracy(row);
    cells.loss.textContent = fmtFixed(r.train_loss, 4);
    cells.sparsity.textContent = Number.isFinite(num(r.sparsity)) ? fmtPct(r.sparsity, 1) : "—";
    cells.time.textContent = fmtDuration(runSeconds(run));
    tr.classList.toggle("live", !!run.live);
    if (statusChanged) this.renderActions(row);
  }

  renderAccuracy(row) {
    const r = row.run.result || {};
    const cell = row.cells.accuracy;
    const acc = num(r.test_accuracy);
    cell.replaceChildren();
    if (row.best) {
      cell.append(el("span", { class: "star", "aria-hidden": "true", text: "★ " }),
        el("span", { class: "visually-hidden", text: `best for ${penaltyName(row.run)}: ` }));
    }
    cell.append(el("span", { class: "acc", text: Number.isFinite(acc) ? fmtPct(acc, 2) : "—" }));
    cell.title = row.best ? `Best completed test accuracy among ${penaltyName(row.run)} runs` : "";
    if (row.run.live && Number.isFinite(acc)) cell.title = "latest epoch (still running)";
  }

  renderActions(row) {
    const { run, cells } = row;
    const id = String(run.id);
    const buttons = [];
    if (run.live) buttons.push(this.button("Cancel", "cancel", id, `Cancel run ${id}`));
    buttons.push(this.button("Run again", "rerun", id, `Run ${id} again with the same settings`));
    if (!run.live) buttons.push(this.deleteButton(id));
    buttons.push(el("a", { class: "button small", href: `/runs/${id}`, "aria-label": `Open run ${id}`, text: "Open" }));
    cells.actions.replaceChildren(...buttons);
  }

  button(text, action, id, label) {
    const b = el("button", { type: "button", class: "button small", "data-action": action, "aria-label": label, text });
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await this.onAction(action, id);
      } finally {
        b.disabled = false;
      }
    });
    return b;
  }

  // Deleting asks once more on the button itself (no modal dialog): the first click arms it.
  deleteButton(id) {
    const b = el("button", { type: "button", class: "button small danger", "data-action": "delete",
      "aria-label": `Delete run ${id}`, text: "Delete" });
    let armed = null;
    b.addEventListener("click", async () => {
      if (!armed) {
        b.textContent = "Confirm delete";
        b.classList.add("armed");
        armed = setTimeout(() => {
          armed = null;
          b.textContent = "Delete";
          b.classList.remove("armed");
        }, 4000);
        return;
      }
      clearTimeout(armed);
      armed = null;
      b.disabled = true;
      try {
        await this.onAction("delete", id);
      } finally {
        b.disabled = false;
        b.textContent = "Delete";
        b.classList.remove("armed");
      }
    });
    return b;
  }

  // ★ the best completed test accuracy for each penalty.
  markBest() {
    const best = new Map();
    for (const row of this.rows.values()) {
      const acc = num(row.run.result && row.run.result.test_accuracy);
      if (row.run.status !== "completed" || !Number.isFinite(acc)) continue;
      const p = penaltyName(row.run);
      if (!best.has(p) || acc > best.get(p).acc) best.set(p, { acc, row });
    }
    const winners = new Set([...best.values()].map((b) => b.row));
    for (const row of this.rows.values()) {
      const isBest = winners.has(row);
      if (isBest !== !!row.best) {
        row.best = isBest;
        row.tr.classList.toggle("best", isBest);
        this.renderAccuracy(row);
      }
    }
  }

  sortBy(key) {
    if (this.sort.key === key) this.sort.dir = -this.sort.dir;
    else this.sort = { key, dir: key === "id" || key === "accuracy" ? -1 : 1 };
    this.resort();
  }

  resort() {
    const { key, dir } = this.sort;
    const value = SORT_VALUES[key] || SORT_VALUES.id;
    const rows = [...this.rows.values()];
    rows.sort((a, b) => {
      const va = value(a.run);
      const vb = value(b.run);
      const missingA = typeof va === "number" && Number.isNaN(va);
      const missingB = typeof vb === "number" && Number.isNaN(vb);
      if (missingA !== missingB) return missingA ? 1 : -1; // missing values last either way
      let c = 0;
      if (typeof va === "number" && typeof vb === "number") c = va - vb;
      else c = String(va).localeCompare(String(vb));
      return c * dir || (Number(b.run.id) - Number(a.run.id));
    });
    // Only move rows that are out of place, so focus inside the table is kept.
    rows.forEach((row, i) => {
      if (this.tbody.children[i] !== row.tr) this.tbody.insertBefore(row.tr, this.tbody.children[i] || null);
    });
    for (const th of this.table.tHead.querySelectorAll("th[data-sort]")) {
      if (th.dataset.sort === key) th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
  }

  refreshEmpty() {
    if (this.emptyNote) this.emptyNote.hidden = this.rows.size > 0;
  }
}

