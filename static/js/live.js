// Progress of queued and running runs: one row each with a <progress> bar, epoch e/E, step s/S
// and an ETA, all as the server's view of the run says (its progress, carried by every frame).
// Rows of runs that ended stay a few seconds with their final status, then go.

import { el, setText } from "./dom.js";
import { colorFor, fmtDuration, plural, runLabel } from "./format.js";

const LINGER_MS = 8000;

export class LiveList {
  constructor(list, emptyNote) {
    this.list = list;
    this.emptyNote = emptyNote;
    this.rows = new Map(); // id → {li, run, parts, timer}
  }

  // Show a run's view (from the API, a `run` message, or carried forward by a frame).
  update(run) {
    const key = String(run.id);
    let row = this.rows.get(key);
    if (!row) {
      if (!run.live) return;
      row = this.create(run);
      this.rows.set(key, row);
      this.list.prepend(row.li);
    }
    row.run = run;
    if (row.timer && run.live) {
      clearTimeout(row.timer);
      row.timer = null;
      row.li.classList.remove("ended");
    }
    if (!run.live && !row.timer) {
      row.li.classList.add("ended");
      row.timer = setTimeout(() => this.remove(key), LINGER_MS);
    }
    this.render(row);
    this.refreshEmpty();
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
    const reason = el("span", { class: "reason live-reason" }); // why it ended, wrapped in full
    const li = el("li", { class: "live-row", "data-run": run.id },
      el("span", { class: "live-name" }, swatch, label), status, bar,
      el("span", { class: "live-meta" }, epoch, eta), reason);
    return { li, run, parts: { label, status, bar, epoch, eta, reason }, timer: null };
  }

  render(row) {
    const { run, parts } = row;
    const p = run.progress || {};
    setText(parts.label, `#${run.id} ${runLabel(run)}`);
    setText(parts.status, run.status);
    parts.status.className = `status status-${run.status}`;
    row.li.dataset.status = run.status;
    parts.bar.value = p.fraction || 0;
    parts.bar.dataset.step = String(p.step || 0);
    parts.bar.setAttribute("aria-valuetext", `step ${p.step || 0} of ${p.total_steps || "?"}`);
    setText(parts.epoch, run.status === "queued" || !p.total_steps
      ? `${p.epochs ? `${plural(p.epochs, "epoch")} · ` : ""}not started`
      : `epoch ${p.current_epoch}/${p.epochs} · step ${p.step}/${p.total_steps}`);
    if (run.status === "running") setText(parts.eta, p.eta_seconds == null ? "ETA …" : `ETA ${fmtDuration(p.eta_seconds)}`);
    else if (run.status === "queued") setText(parts.eta, "waiting");
    else setText(parts.eta, "");
    setText(parts.reason, run.live ? "" : run.reason || "");
  }

  refreshEmpty() {
    if (this.emptyNote) this.emptyNote.hidden = this.rows.size > 0;
  }
}
