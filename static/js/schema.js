// The server's schema (GET /api/schema), which base.html embeds in every page as #normlab-schema:
// the run settings with their ranges, the penalties in display order with their labels and
// colours, the limits a page checks before sending, and the sparsity threshold. The one place the
// front end learns them, so no page hard-codes what the server enforces.
//
// Read on first use (not on import), so modules that need none of it load on any page.

import { readJson } from "./dom.js";

let cached = null;

function schema() {
  if (!cached) cached = readJson("normlab-schema");
  return cached;
}

// The run settings (name, label, type, default, min / max or choices), in form order.
export const settingSpecs = () => schema().settings;

export function settingSpec(name) {
  return settingSpecs().find((s) => s.name === name) || null;
}

// Every limit a page checks before sending: label_max, study_max_runs, seeds_max, lams_max,
// lam_min, lam_max, compare_max, queue_limit, study_queue_limit.
export const limits = () => schema().limits;

export const comparisonLambdas = () => schema().comparison_lambdas;

export const sparsityThreshold = () => schema().sparsity_threshold;

// The penalties in display order: [{name, label, color}].
export const penalties = () => schema().penalties;

export function penaltyInfo(name) {
  return penalties().find((p) => p.name === name) || { name, label: String(name ?? "?"), color: "#616e7c" };
}
