// A study folded into one row of the runs table (GET /api/runs?fold=studies: its name, dataset,
// runs by status, progress and best run so far), with a button that unfolds its runs beneath it
// (GET /api/runs?study=<id>, the same filters) and a row saying how many more there are.

import { el, setText } from "./dom.js";
import { fmtAccuracy, fmtLambda, num, penaltyLabel, plural } from "./format.js";
import { COLUMNS } from "./run_row.js";

const ORDER = ["running", "queued", "completed", "failed", "cancelled", "interrupted"];

export const STUDY_SORT_VALUES = {
  id: (s) => Number(s.newest_run),
  status: () => "",
  study: (s) => String(s.id).padStart(12, "0"),
  dataset: (s) => s.dataset || "",
  accuracy: (s) => num(s.best && s.best.test_accuracy),
};

// handlers: {onExpand(id, open)}
export function createStudyRow(study, handlers) {
  const id = String(study.id);
  const toggle = el("button", { type: "button", class: "fold-toggle", "aria-expanded": "false",
    "aria-label": `Show the runs of study ${id}` });
  const cell = (col, cls = "") => el("td", { class: cls || null, "data-col": col });
  const cells = {
    id: el("td", { class: "col-id", "data-col": "id" }),
    status: cell("status", "col-status"), study: cell("study"), dataset: cell("dataset"), penalty: cell("penalty"),
    rest: el("td", { colspan: "3", class: "study-runs-note" }), accuracy: cell("accuracy", "num"),
    gap: el("td", { colspan: "3" }), actions: cell("actions", "col-actions"),
  };
  const tr = el("tr", { class: "study-row", "data-study": id }, el("td", { class: "col-select" }, toggle),
    ...Object.values(cells));
  const row = { kind: "study", tr, study, cells, toggle, open: false, children: [], more: null, handlers };
  toggle.addEventListener("click", () => handlers.onExpand(id, !row.open));
  cells.actions.append(el("a", { class: "button small", href: `/studies/${id}`, "aria-label": `Open study ${id}`,
    text: "Open study" }));
  return row;
}

export function renderStudyRow(row) {
  const { study, cells } = row;
  const counts = study.counts || {};
  row.tr.dataset.runs = String(study.runs);
  row.tr.dataset.matching = String(study.matching);
  cells.id.replaceChildren(el("a", { href: `/studies/${study.id}`, class: "study-name", text: `Study ${study.id}` }),
    " ", el("span", { class: "run-label-cell", text: study.name }));
  const bits = ORDER.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`);
  const bar = el("progress", { max: "1", value: String(num(study.progress && study.progress.fraction) || 0),
    "aria-label": `Study ${study.id}: ${study.progress ? study.progress.finished : 0} of ${study.runs} runs finished` });
  cells.status.replaceChildren(bar, el("span", { class: "reason", text: bits.join(" · ") }));
  setText(cells.study, study.name);
  cells.study.title = study.name;
  setText(cells.dataset, study.dataset || "—");
  setText(cells.penalty, "");
  setText(cells.rest, study.matching === study.runs ? plural(study.runs, "run")
    : `${study.matching} of ${plural(study.runs, "run")} match`);
  const best = study.best;
  cells.accuracy.replaceChildren();
  if (best) {
    cells.accuracy.append(el("a", { href: `/runs/${best.id}`, class: "study-best",
      title: `the study's best completed run so far: #${best.id} ${best.label || ""}`,
      text: `best ${fmtAccuracy(best.test_accuracy)}` }));
    cells.accuracy.append(el("span", { class: "reason",
      text: `#${best.id} ${best.penalty === "none" ? "none" : `${penaltyLabel(best.penalty)} λ=${fmtLambda(best.lam)}`}` }));
  } else {
    cells.accuracy.textContent = "—";
  }
}

export function setExpanded(row, open) {
  row.open = open;
  row.toggle.setAttribute("aria-expanded", String(open));
  row.toggle.setAttribute("aria-label", `${open ? "Hide" : "Show"} the runs of study ${row.study.id}`);
  row.tr.classList.toggle("open", open);
}

// The row under an unfolded study's runs when it has more than were fetched.
export function moreRow(row, shown, total, onMore) {
  if (shown >= total) return null;
  const more = el("button", { type: "button", class: "button small", text: "Show more" });
  more.addEventListener("click", onMore);
  return el("tr", { class: "study-more", "data-more-for": String(row.study.id) },
    el("td", { colspan: String(COLUMNS) }, `${shown} of ${total} matching runs shown · `, more, " · ",
      el("a", { href: `/studies/${row.study.id}`, text: "the study's page has them all" })));
}
