// Progress of queued and running runs: one row each with a <progress> bar, epoch e/E and an ETA.
// Rows of runs that ended stay a few seconds with their final status, then go.

import { el, fmtDuration, isLive, runLabel, colorFor, num, setText } from "./format.js";

const LINGER_MS = 8000;
const RATE_WINDOW_MS = 15000;

// Progress of one run, fed from the run dict, /metrics answers and frames.
export class Progress {
  constructor() {
    this.step = 0;
    this.total = 0;
    this.epoch = 0;
    this.epochs = 0;
    this.samples = []; // [performance.now(), step] for the ETA
  }

  fromRun(run) {
    const p = run.progress || {};
    if (num(p.total_steps) > 0) this.total = num(p.total_steps);
    if (num(p.epochs) > 0) this.epochs = num(p.epochs);
    else if (run.settings && run.settings.epochs) this.epochs = run.settings.epochs;
    if (num(p.step) > this.step) this.step = num(p.step);
    if (num(p.epoch) > this.epoch) this.epoch = num(p.epoch);
  }

  fromChunk(chunk) {
    if (chunk.start) {
      if (num(chunk.start.total_steps) > 0) this.total = num(chunk.start.total_steps);
      if (num(chunk.start.epochs) > 0) this.epochs = num(chunk.start.epochs);
    }
    const b = chunk.batch;
    if (b && b.step && b.step.length) {
      this.step = Math.max(this.step, b.step[b.step.length - 1]);
      this.epoch = Math.max(this.epoch, b.epoch[b.epoch.length - 1] - 1); // epochs completed
    }
    const e = chunk.epoch;
    if (e && e.epoch && e.epoch.length) this.epoch = Math.max(this.epoch, e.epoch[e.epoch.length - 1]);
    if (chunk.final && num(chunk.final.steps) > 0) this.step = num(chunk.final.steps);
    this.sample();
  }

  sample() {
    const now = performance.now();
    this.samples.push([now, this.step]);
    while (this.samples.length > 2 && now - this.samples[0][0] > RATE_WINDOW_MS) this.samples.shift();
  }

  // Seconds left at the recent rate, or null while unknown.
  eta() {
    if (!this.total || this.samples.length < 2) return null;
    const [t0, s0] = this.samples[0];
    const [t1, s1] = this.samples[this.samples.length - 1];
    if (t1 - t0 < 500 || s1 <= s0) return null;
    const rate = (s1 - s0) / ((t1 - t0) / 1000);
    return Math.max(0, (this.total - this.step) / rate);
  }

  // The epoch being trained, 1-based, for "epoch e/E".
  currentEpoch() {
    if (!this.epochs) return this.epoch;
    return Math.min(this.epochs, this.step >= this.total && this.total ? this.epochs : this.epoch + 1);
  }
}

export class LiveList {
  constructor(list, emptyNote) {
    this.list = list;
    this.emptyNote = emptyNote;
    this.rows = new Map(); // id → {li, run, progress, parts, timer}
    this.ticker = setInterval(() => this.tick(), 1000);
  }

  progressOf(id) {
    const row = this.rows.get(String(id));
    return row ? row.progress : null;
  }

  update(run) {
    const key = String(run.id);
    let row = this.rows.get(key);
    if (!row) {
      if (!isLive(run.status)) return;
      row = this.create(run);
      this.rows.set(key, row);
      this.list.prepend(row.li);
    }
    row.run = run;
    row.progress.fromRun(run);
    if (row.timer && isLive(run.status)) {
      clearTimeout(row.timer);
      row.timer = null;
      row.li.classList.remove("ended");
    }
    if (!isLive(run.status) && !row.timer) {
      row.li.classList.add("ended");
      row.timer = setTimeout(() => this.remove(key), LINGER_MS);
    }
    this.render(row);
    this.refreshEmpty();
  }

  ingest(id, chunk) {
    const row = this.rows.get(String(id));
    if (!row) return;
    row.progress.fromChunk(chunk);
    row.li.dataset.lastSeq = String(chunk.last_seq);
    this.render(row);
  }

  remove(id) {
    const key = String(id);
    const row = this.rows.get(key);
    if (!row) return;
    clearTimeout(row.timer);
    row.li.remove();
    this.rows.delete(key);
    this.refreshEmpty();
  }

  create(run) {
    const label = el("a", { class: "live-label", href: `/runs/${run.id}` });
    const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
    swatch.style.setProperty("--run-color", colorFor(run.id));
    const status = el("span", { class: "status" });
    const bar = el("progress", { max: "1", value: "0", "aria-label": `Progress of run ${run.id}` });
    const epoch = el("span", { class: "live-epoch" });
    const eta = el("span", { class: "live-eta" });
    const li = el("li", { class: "live-row", "data-run": run.id, "data-last-seq": "-1" },
      el("span", { class: "live-name" }, swatch, label), status, bar,
      el("span", { class: "live-meta" }, epoch, eta));
    return { li, run, progress: new Progress(), parts: { label, status, bar, epoch, eta }, timer: null };
  }

  render(row) {
    const { run, progress: p, parts } = row;
    setText(parts.label, `#${run.id} ${runLabel(run)}`);
    setText(parts.status, run.status);
    parts.status.className = `status status-${run.status}`;
    row.li.dataset.status = run.status;
    const total = p.total || 1;
    parts.bar.max = total;
    parts.bar.value = Math.min(p.step, total);
    parts.bar.dataset.step = String(p.step);
    parts.bar.setAttribute("aria-valuetext", `step ${p.step} of ${p.total || "?"}`);
    const started = p.total > 0 && (p.step > 0 || run.status !== "queued");
    setText(parts.epoch, started
      ? `epoch ${p.currentEpoch()}/${p.epochs || "?"} · step ${p.step}/${p.total}`
      : `${p.epochs ? `${p.epochs} epochs · ` : ""}not started`);
    if (run.status === "running") {
      const eta = p.eta();
      setText(parts.eta, eta === null ? "ETA …" : `ETA ${fmtDuration(eta)}`);
    } else if (run.status === "queued") {
      setText(parts.eta, "waiting");
    } else {
      setText(parts.eta, run.reason ? run.reason : "");
    }
  }

  tick() {
    for (const row of this.rows.values()) if (row.run.status === "running") this.render(row);
  }

  refreshEmpty() {
    if (this.emptyNote) this.emptyNote.hidden = this.rows.size > 0;
  }
}
