// Paired comparisons as table rows (the study's `comparisons`, and the any-two answer): n pairs,
// the mean difference, the paired, bootstrap and unpaired 95 % intervals side by side, the
// t-test, Wilcoxon and Holm-corrected p-values and the seeds needed; a comparison with fewer
// than 3 pairs shows the server's note in place of the numbers. Every value is the server's,
// only written out here.

import { el } from "../dom.js";
import { fmtP, fmtPointsInterval, fmtSignedPoints, settingText } from "../format.js";

// The columns after the setting: [key, header, text(c)].
const BARE = { unit: "" }; // the unit is in the header
const INTERVAL = { unit: "", digits: 1 }; // one decimal, as the server's sentences write them
const COLUMNS = [
  ["n_pairs", "Pairs", (c) => String(c.n_pairs ?? "—")],
  ["mean_diff", "Mean difference (pp)", (c) => fmtSignedPoints(c.mean_diff, BARE).trim()],
  ["ci95_paired", "Paired 95 % CI (pp)", (c) => fmtPointsInterval(c.ci95_paired, INTERVAL)],
  ["ci95_bootstrap", "Bootstrap 95 % CI (pp)", (c) => fmtPointsInterval(c.ci95_bootstrap, INTERVAL)],
  ["ci95_unpaired", "Unpaired 95 % CI (pp)", (c) => fmtPointsInterval(c.ci95_unpaired, INTERVAL)],
  ["p_ttest", "p (paired t)", (c) => fmtP(c.p_ttest)],
  ["p_wilcoxon", "p (Wilcoxon)", (c) => fmtP(c.p_wilcoxon)],
  ["p_holm", "p (Holm)", (c) => fmtP(c.p_holm)],
  ["seeds_needed", "Seeds needed", seedsNeeded],
];

function seedsNeeded(c) {
  if (!c.testable) return "—";
  return c.seeds_needed === null || c.seeds_needed === undefined ? "> 100 000" : String(c.seeds_needed);
}

export const comparisonKey = (c) => `${c.penalty}:${c.lam}|${c.baseline_penalty}:${c.baseline_lam}`;

// "L1 λ=0.001 − none".
export const comparisonLabel = (c) => `${settingText(c.penalty, c.lam)} − ${settingText(c.baseline_penalty, c.baseline_lam)}`;

export function comparisonHead() {
  return el("tr", {}, el("th", { scope: "col", text: "Setting − baseline" }),
    ...COLUMNS.map(([, text]) => el("th", { scope: "col", class: "num", text })));
}

// One row; `phrase`: also write the server's sentence under the setting.
export function comparisonRow(c, { phrase = false } = {}) {
  const head = el("th", { scope: "row", text: comparisonLabel(c) });
  if (phrase && c.phrase) head.append(el("span", { class: "phrase", text: c.phrase }));
  const tr = el("tr", { "data-setting": `${c.penalty}:${c.lam}`, "data-testable": c.testable ? "1" : "0" }, head);
  if (!c.testable) {
    tr.append(el("td", { class: "num", "data-col": "n_pairs", text: String(c.n_pairs ?? 0) }),
      el("td", { class: "note", colspan: String(COLUMNS.length - 1), text: c.note || "no test is possible" }));
    return tr;
  }
  for (const [key, , text] of COLUMNS) {
    tr.append(el("td", { class: key === "ci95_unpaired" ? "num unpaired" : "num", "data-col": key, text: text(c) }));
  }
  return tr;
}
