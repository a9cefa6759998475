// The runs table: one page of runs as the server lists it (run_row.js), studies folded into one
// row each (study_row.js) whose runs unfold beneath them, sortable by any column. The server pages
// and filters (newest first, GET /api/runs); sorting orders the rows of the page shown, an
// unfolded study's runs staying under their study.

import { RUN_SORT_VALUES, createRunRow, renderRunRow } from "./run_row.js";
import { STUDY_SORT_VALUES, createStudyRow, moreRow, renderStudyRow, setExpanded } from "./study_row.js";

export class RunsTable {
  // handlers: {onToggle(id, on), onAction(action, id), onExpand(studyId, open), studyName(studyId)}
  constructor(table, { emptyNote, ...handlers }) {
    this.table = table;
    this.tbody = table.tBodies[0];
    this.handlers = {
      onToggle: () => {}, onAction: () => {}, onExpand: () => {}, studyName: () => "", ...handlers,
    };
    this.emptyNote = emptyNote;
    this.rows = new Map(); // run id → row ({kind: "run", tr, run, cells, parent: study id | null})
    this.studies = new Map(); // study id → row ({kind: "study", tr, study, open, children: [run ids], more})
    this.order = []; // the page's items as the server listed them: ["run", id] | ["study", id]
    this.checked = new Set();
    this.sort = { key: "id", dir: -1 };
    for (const th of table.tHead.querySelectorAll("th[data-sort]")) {
      th.querySelector("button").addEventListener("click", () => this.sortBy(th.dataset.sort));
    }
  }

  // A page: its runs and folded studies (each list newest first). Unfolded studies still on the
  // page keep their runs.
  setPage(runs, studies = []) {
    const studyIds = new Set(studies.map((s) => String(s.id)));
    for (const id of [...this.studies.keys()]) if (!studyIds.has(id)) this.removeStudy(id);
    const runIds = new Set(runs.map((r) => String(r.id)));
    for (const [id, row] of [...this.rows]) if (row.parent === null && !runIds.has(id)) this.remove(id);
    for (const run of runs) this.put(run, null);
    for (const study of studies) this.putStudy(study);
    // Server order: each study where its newest run would stand among the runs.
    const items = [...runs.map((r) => [Number(r.id), ["run", String(r.id)]]),
      ...studies.map((s) => [Number(s.newest_run), ["study", String(s.id)]])];
    this.order = items.sort((a, b) => b[0] - a[0]).map(([, item]) => item);
    this.resort();
  }

  // An unfolded study's runs (those matching the filters, newest first) and how many match in all.
  setChildren(studyId, runs, total, onMore) {
    const study = this.studies.get(String(studyId));
    if (!study) return;
    const ids = runs.map((r) => String(r.id));
    for (const id of study.children) if (!ids.includes(id)) this.remove(id);
    for (const run of runs) this.put(run, String(studyId));
    study.children = ids;
    if (study.more) study.more.remove();
    study.more = moreRow(study, ids.length, total, onMore);
    setExpanded(study, true);
    this.resort();
  }

  collapse(studyId) {
    const study = this.studies.get(String(studyId));
    if (!study) return;
    for (const id of study.children) this.remove(id);
    study.children = [];
    if (study.more) study.more.remove();
    study.more = null;
    setExpanded(study, false);
    this.resort();
  }

  isOpen(studyId) {
    const study = this.studies.get(String(studyId));
    return !!(study && study.open);
  }

  openStudies() {
    return [...this.studies.values()].filter((s) => s.open).map((s) => s.study.id);
  }

  get(id) {
    const row = this.rows.get(String(id));
    return row ? row.run : null;
  }

  all() {
    return [...this.rows.values()].map((row) => row.run);
  }

  // A run's new view (a notice, a frame, an action's answer), for a row the table has; false if none.
  update(run, { deferSort = false } = {}) {
    const row = this.rows.get(String(run.id));
    if (!row) return false;
    this.put(run, row.parent);
    if (!deferSort) this.resort();
    return true;
  }

  // A run new to the page (launched meanwhile): at the top, as the newest.
  prepend(run) {
    this.put(run, null);
    this.order.unshift(["run", String(run.id)]);
    this.resort();
  }

  put(run, parent) {
    const key = String(run.id);
    let row = this.rows.get(key);
    if (!row) {
      row = createRunRow(run, this.checked.has(key), this.handlers);
      this.rows.set(key, row);
      this.tbody.append(row.tr);
    } else if (run.best === undefined) {
      // Notices carry no ★ (it depends on other runs): the row keeps the last page's until the next.
      run = { ...run, best: row.run.best, best_among: row.run.best_among };
    }
    row.parent = parent;
    row.run = run;
    row.tr.classList.toggle("child", parent !== null);
    renderRunRow(row);
  }

  putStudy(study) {
    const key = String(study.id);
    let row = this.studies.get(key);
    if (!row) {
      row = createStudyRow(study, this.handlers);
      this.studies.set(key, row);
      this.tbody.append(row.tr);
    }
    row.study = study;
    renderStudyRow(row);
  }

  remove(id) {
    const key = String(id);
    const row = this.rows.get(key);
    if (!row) return;
    row.tr.remove();
    if (row.note) row.note.remove();
    this.rows.delete(key);
    this.order = this.order.filter(([kind, item]) => !(kind === "run" && item === key));
    const study = row.parent !== null && this.studies.get(row.parent);
    if (study) study.children = study.children.filter((c) => c !== key);
    this.refreshEmpty();
  }

  removeStudy(id) {
    const row = this.studies.get(String(id));
    if (!row) return;
    for (const child of row.children) this.remove(child);
    if (row.more) row.more.remove();
    row.tr.remove();
    this.studies.delete(String(id));
  }

  // The Study column again, once the studies' names are known.
  rerenderStudies() {
    for (const row of this.rows.values()) {
      row.studyKey = null;
      renderRunRow(row);
    }
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

  setLastSeq(id, seq) {
    const row = this.rows.get(String(id));
    if (row) row.tr.dataset.lastSeq = String(seq);
  }

  sortBy(key) {
    if (this.sort.key === key) this.sort.dir = -this.sort.dir;
    else this.sort = { key, dir: key === "id" || key === "accuracy" ? -1 : 1 };
    this.resort();
  }

  // Order the page's items by the chosen column (missing values last either way, then newest
  // first), each unfolded study followed by its runs in the same order.
  compare(a, b) {
    const { key, dir } = this.sort;
    const value = (item) => (item.kind === "run" ? (RUN_SORT_VALUES[key] || RUN_SORT_VALUES.id)(item.run)
      : (STUDY_SORT_VALUES[key] || (() => NaN))(item.study));
    const va = value(a);
    const vb = value(b);
    const missingA = typeof va === "number" && Number.isNaN(va);
    const missingB = typeof vb === "number" && Number.isNaN(vb);
    if (missingA !== missingB) return missingA ? 1 : -1;
    let c = 0;
    if (typeof va === "number" && typeof vb === "number") c = va - vb;
    else c = String(va).localeCompare(String(vb));
    const newest = (item) => Number(item.kind === "run" ? item.run.id : item.study.newest_run);
    return c * dir || newest(b) - newest(a);
  }

  resort() {
    const byCompare = (a, b) => this.compare(a, b);
    const top = this.order.map(([kind, id]) => (kind === "run" ? this.rows.get(id) : this.studies.get(id))).filter(Boolean);
    const trs = [];
    const rowTrs = (row) => (row.note ? [row.tr, row.note] : [row.tr]); // a run's row and its reason's
    for (const item of top.sort(byCompare)) {
      trs.push(...(item.kind === "run" ? rowTrs(item) : [item.tr]));
      if (item.kind !== "study" || !item.open) continue;
      const children = item.children.map((id) => this.rows.get(id)).filter(Boolean).sort(byCompare);
      trs.push(...children.flatMap(rowTrs));
      if (item.more) trs.push(item.more);
    }
    // Only move rows that are out of place, so focus inside the table is kept.
    trs.forEach((tr, i) => {
      if (this.tbody.children[i] !== tr) this.tbody.insertBefore(tr, this.tbody.children[i] || null);
    });
    while (this.tbody.children.length > trs.length) this.tbody.lastElementChild.remove();
    for (const th of this.table.tHead.querySelectorAll("th[data-sort]")) {
      if (th.dataset.sort === this.sort.key) th.setAttribute("aria-sort", this.sort.dir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
    this.refreshEmpty();
  }

  refreshEmpty() {
    if (this.emptyNote) this.emptyNote.hidden = this.rows.size + this.studies.size > 0;
  }
}
