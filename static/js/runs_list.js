// The runs the dashboard's table shows, as the server pages them: the page asks only for what it
// shows (GET /api/runs with the filters, PAGE_SIZE runs, keyset paging newest first, studies
// folded), and asks again for its current page when the server's answer may have changed: after
// runs end (their ★ and the folded studies' progress are the server's to work out; at most once a
// second), after a resync, after a reconnect. Notices (`run` messages) update the rows in between.

import { api } from "./api.js";
import { setText } from "./dom.js";
import { plural } from "./format.js";
import { runsQuery } from "./runs_filters.js";

const PAGE_SIZE = 50;
const STUDY_PAGE = 100; // an unfolded study's runs per request
const REFRESH_DELAY_MS = 500;
const REFRESH_GAP_MS = 1000;

export class RunsList {
  // parts: {table, filters, summary, pager: {nav, newer, older, text}, say(text, isError), onPage(runs)}
  constructor(parts) {
    Object.assign(this, parts);
    this.before = null; // the page: runs with ids below this (null: the newest)
    this.stack = []; // [{before, offset}] of the pages before this one
    this.offset = 0; // runs on the pages before this one
    this.answer = null;
    this.generation = 0; // one per view (filters, page): answers for another view are dropped
    this.appliedAsOf = -Infinity; // and answers older than the one shown
    this.heardAt = new Map(); // run id → when a notice last told us about it (performance.now())
    this.unfolded = new Map(); // study id → {runs, total, next_before}
    this.timer = null;
    this.lastLoad = -Infinity;
    this.pager.newer.addEventListener("click", () => this.newer());
    this.pager.older.addEventListener("click", () => this.older());
  }

  // ---- the page ---------------------------------------------------------------------------------

  async load() {
    clearTimeout(this.timer);
    this.timer = null;
    const generation = this.generation;
    const asOf = performance.now();
    this.lastLoad = asOf;
    if (!this.answer) this.table.table.setAttribute("aria-busy", "true");
    try {
      const answer = await api.listRuns(runsQuery(this.filters.view, { limit: PAGE_SIZE, before: this.before }));
      if (generation !== this.generation || asOf < this.appliedAsOf) return;
      this.appliedAsOf = asOf;
      this.apply(answer, asOf);
      this.table.table.setAttribute("aria-busy", "false");
      await Promise.all([...this.unfolded.keys()].map((id) => this.loadStudy(id, asOf)));
    } catch (err) {
      if (generation === this.generation) this.say(`Could not load the runs: ${err.message}`, true);
    }
  }

  // Ask again soon for the page shown (debounced: many runs ending make one request a second).
  refreshSoon() {
    if (this.timer) return;
    const wait = Math.max(REFRESH_DELAY_MS, this.lastLoad + REFRESH_GAP_MS - performance.now());
    this.timer = setTimeout(() => this.load(), wait);
  }

  // A page fetched at `asOf`: what notices said after that wins (a run created, changed or deleted
  // while the page was on its way is neither dropped, set back nor brought back), and a run never
  // goes back from ended to live.
  apply(answer, asOf) {
    this.answer = answer;
    const runs = this.merge(answer.runs, asOf);
    this.table.setPage(runs, answer.studies || []);
    for (const id of [...this.unfolded.keys()]) if (!this.table.studies.has(String(id))) this.unfolded.delete(id);
    this.renderSummary();
    this.onPage(runs);
  }

  merge(fetched, asOf) {
    const out = [];
    for (const run of fetched) {
      const known = this.table.get(run.id);
      const newer = (this.heardAt.get(String(run.id)) ?? -Infinity) > asOf;
      if (newer && !known) continue; // deleted since
      const keep = newer || (known && !known.live && run.live);
      out.push(keep ? { ...known, best: run.best, best_among: run.best_among } : run);
    }
    return out;
  }

  renderSummary() {
    const { runs, total } = this.answer;
    const view = this.filters.view;
    const narrowed = this.filters.narrowed();
    const studies = this.answer.total_studies || 0;
    const which = narrowed ? " matching the filters" : view.fold && !view.study ? " launched on their own" : "";
    const shownRuns = total ? `Runs ${this.offset + 1}–${this.offset + runs.length} of ${total}${which}` : `No runs${which}`;
    const folded = studies ? ` · ${plural(studies, "study", "studies")}${narrowed ? " with matching runs" : ""}, folded` : "";
    setText(this.summary, total || studies ? `${shownRuns}${folded}` : narrowed ? "No run matches these filters." : "");
    const paged = this.before !== null || this.answer.next_before !== null;
    this.pager.nav.hidden = !paged;
    this.pager.newer.disabled = this.before === null;
    this.pager.older.disabled = this.answer.next_before === null;
    setText(this.pager.text, paged ? `page ${this.stack.length + 1} of ${Math.max(1, Math.ceil(total / PAGE_SIZE))}` : "");
  }

  older() {
    if (!this.answer || this.answer.next_before === null) return;
    this.stack.push({ before: this.before, offset: this.offset });
    this.goTo(this.answer.next_before, this.offset + this.answer.runs.length);
  }

  newer() {
    const previous = this.stack.pop();
    if (previous) this.goTo(previous.before, previous.offset);
  }

  // New filters: their first page.
  restart() {
    this.stack = [];
    this.goTo(null, 0);
  }

  // Another page (or the same with other filters), its studies folded.
  goTo(before, offset) {
    this.before = before;
    this.offset = offset;
    this.generation += 1;
    this.appliedAsOf = -Infinity;
    for (const id of [...this.unfolded.keys()]) this.table.collapse(id);
    this.unfolded.clear();
    this.load();
  }

  get onFirstPage() {
    return this.before === null;
  }

  // ---- unfolded studies -------------------------------------------------------------------------

  async expand(studyId, open) {
    const key = String(studyId);
    if (!open) {
      this.unfolded.delete(key);
      this.table.collapse(key);
      return;
    }
    this.unfolded.set(key, { runs: [], total: 0, next_before: null });
    await this.loadStudy(key, performance.now());
  }

  // The unfolded study's runs (as many as shown so far, at least a page), newest first.
  async loadStudy(key, asOf, { more = false } = {}) {
    const state = this.unfolded.get(key);
    if (!state) return;
    const limit = more ? STUDY_PAGE : Math.min(500, Math.max(STUDY_PAGE, state.runs.length));
    const before = more ? state.next_before : null;
    try {
      const answer = await api.listRuns(runsQuery(this.filters.view, { limit, before, study: key }));
      if (this.unfolded.get(key) !== state) return; // folded again meanwhile
      const runs = this.merge(answer.runs, asOf);
      state.runs = more ? [...state.runs, ...runs] : runs;
      state.total = answer.total;
      state.next_before = answer.next_before;
      this.table.setChildren(key, state.runs, state.total, () => this.loadStudy(key, performance.now(), { more: true }));
      this.onPage(runs);
    } catch (err) {
      this.say(`Could not load the runs of study ${key}: ${err.message}`, true);
    }
  }

  // ---- notices ----------------------------------------------------------------------------------

  // A run's new view from the server. Rows on the page update at once; when the page's answer may
  // change (a run ended: ★; a study's run: its folded row; a new run the filters may not take),
  // the page is asked for again.
  seeRun(run) {
    const key = String(run.id);
    this.heardAt.set(key, performance.now());
    if (this.table.update(run)) {
      if (!run.live) this.refreshSoon();
      return;
    }
    const inStudy = run.study !== null && run.study !== undefined;
    const view = this.filters.view;
    if (inStudy && this.unfolded.has(String(run.study))) {
      this.refreshSoon();
    } else if (inStudy && view.fold && !view.study) {
      if (this.table.studies.has(String(run.study)) || this.onFirstPage) this.refreshSoon();
    } else if (this.onFirstPage) {
      if (this.filters.narrowed()) this.refreshSoon();
      else this.prepend(run);
    }
  }

  prepend(run) {
    this.table.prepend(run);
    if (this.answer) {
      this.answer = { ...this.answer, runs: [run, ...this.answer.runs], total: this.answer.total + 1 };
      this.renderSummary();
    }
  }

  forget(id) {
    this.heardAt.set(String(id), performance.now());
    if (this.table.get(id) && this.answer) {
      this.answer = { ...this.answer, runs: this.answer.runs.filter((r) => String(r.id) !== String(id)),
        total: Math.max(0, this.answer.total - 1) };
      this.table.remove(id);
      this.renderSummary();
    }
  }
}
