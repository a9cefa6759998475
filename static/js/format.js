// How numbers, penalties, λ, durations, dates and runs are written on every page: the one
// formatting module, one convention per quantity (the CLI and the server's sentences write them
// alike, engine/formats.py):
//   accuracy (any fraction of examples)  fmtAccuracy   "71.65 %"
//   sparsity (a fraction of weights)     fmtSparsity   "12.3 %"
//   a difference of two fractions        fmtPoints     "1.83 pp" (percentage points)
//   λ                                    fmtLambda     "1e-4", "3.16e-5", "0.01"
//   a count of things                    plural        "1 epoch", "20 epochs"
// Labels of penalties come from the server's schema (schema.js).

import { penaltyInfo } from "./schema.js";

// JSON carries NaN / ±Infinity as strings and the store as null; turn all into numbers (null → NaN).
export function num(v) {
  if (typeof v === "number") return v;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  if (v === null || v === undefined || v === "NaN") return NaN;
  const n = Number(v);
  return Number.isNaN(n) ? NaN : n;
}

// Like Python's "%g" but with short exponents: 0.0001 → "1e-4", 0.01 → "0.01", 200 → "200".
export function fmtG(v, digits = 4) {
  const x = num(v);
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "—" : String(x);
  if (x === 0) return "0";
  const abs = Math.abs(x);
  if (abs < 1e-3 || abs >= 1e6) {
    const [mant, exp] = x.toExponential(digits - 1).split("e");
    return `${stripZeros(mant)}e${Number(exp)}`;
  }
  return String(Number(x.toPrecision(digits))); // 60000 stays "60000" (toPrecision alone: "6.000e+4")
}

function stripZeros(s) {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

export function fmtFixed(v, digits = 4) {
  const x = num(v);
  return Number.isFinite(x) ? x.toFixed(digits) : "—";
}

export function fmtPct(v, digits = 2) {
  const x = num(v);
  return Number.isFinite(x) ? `${(x * 100).toFixed(digits)} %` : "—";
}

export const fmtAccuracy = (v) => fmtPct(v, 2);

export const fmtSparsity = (v) => fmtPct(v, 1);

// A difference of two fractions in percentage points: 0.0123 → "1.23 pp" ("+1.23 pp" with sign;
// unit "": the bare number, for a column whose header names the unit).
export function fmtPoints(v, { digits = 2, sign = false, unit = "pp" } = {}) {
  const x = num(v);
  if (!Number.isFinite(x)) return "—";
  return `${sign && x > 0 ? "+" : ""}${(x * 100).toFixed(digits)}${unit ? ` ${unit}` : ""}`;
}

export const fmtLambda = (v) => fmtG(v, 4);

// The shortest text in fmtG's style that reads back as exactly v (for links that carry settings).
export function exactText(v) {
  const x = num(v);
  if (!Number.isFinite(x)) return String(v);
  for (let digits = 4; digits <= 17; digits++) {
    const text = fmtG(x, digits);
    if (Number(text) === x) return text;
  }
  return String(x);
}

// "1 epoch", "3 epochs"; "1 batch", "2 batches" (the plural given when it is not noun + "s").
export function plural(n, noun, many = `${noun}s`) {
  return `${n} ${Number(n) === 1 ? noun : many}`;
}

const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

// A power of ten as people write it in a label (1e-3 → "10⁻³"); any other number as fmtG.
export function fmtPow10(v) {
  const x = num(v);
  const e = Math.round(Math.log10(x));
  if (!(x > 0) || Math.abs(10 ** e - x) > 1e-9 * x) return fmtG(x);
  return `10${String(e).replace(/./g, (c) => SUPERSCRIPT[c])}`;
}

export function fmtDuration(seconds) {
  const s = num(seconds);
  if (!Number.isFinite(s) || s < 0) return "—";
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - 60 * m);
  if (m < 60) return `${m} min ${String(rest).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

// A timestamp from the API (an ISO string) in the reader's own way of writing dates.
export function fmtDate(value) {
  const ms = value ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) return "—";
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

// How long a run took, or has been training so far (the server's view says).
export const runSeconds = (run) => (run.progress ? run.progress.elapsed_seconds : null);

// ---- penalties, λ and runs -------------------------------------------------------------------

export const penaltyLabel = (name) => penaltyInfo(name).label;

export const penaltyName = (run) => penaltyLabel(run.settings && run.settings.penalty);

// A run's λ: "—" without a penalty, "λ₁ / λ₂" for elastic net.
export function lambdaText(run) {
  const s = run.settings || {};
  if (s.penalty === "none") return "—";
  if (s.penalty === "elastic") return `${fmtLambda(s.lam)} / ${fmtLambda(s.lam_l2)}`;
  return fmtLambda(s.lam);
}

// What a run is called: its label, or its penalty and λ.
export function runLabel(run) {
  if (run.label) return run.label;
  const s = run.settings || {};
  if (s.penalty === "none" || !s.penalty) return "none";
  return `${penaltyName(run)} λ=${lambdaText(run)}`;
}

// One colour per run, stable across pages (Tableau 10: distinct, colour-blind friendly enough).
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
export function colorFor(id) {
  const n = Math.abs(Number(id)) || 0;
  return PALETTE[n % PALETTE.length];
}

// A study's plan in a line: its penalties and λ, seeds, and (unless brief) the shared setup.
export function describeSpec(spec, { brief = false } = {}) {
  if (!spec) return "";
  const byPenalty = spec.lams_by_penalty || {};
  const parts = (spec.penalties || []).map((p) => {
    if (p === "none") return "no penalty";
    const lams = byPenalty[p] || spec.lams || [];
    return `${penaltyLabel(p)} at λ = ${lams.map(fmtLambda).join(", ")}`;
  });
  const s = spec.settings || {};
  const has = (key) => s[key] !== undefined;
  const setup = [
    s.dataset,
    !brief && has("train_size") ? `${s.train_size} training examples` : null,
    has("hidden") ? `${s.hidden} hidden units${brief ? "" : ` (${s.activation || "sigmoid"})`}` : null,
    has("epochs") ? plural(s.epochs, "epoch") : null,
    !brief && has("batch_size") ? `batch ${s.batch_size}` : null,
    !brief && has("lr") ? `lr ${fmtG(s.lr)}` : null,
  ].filter(Boolean).join(", ");
  const first = s.seed ?? 0;
  let seeds = plural(spec.seeds, "seed");
  if (spec.seeds > 1 && !brief) seeds += ` (${first} … ${first + spec.seeds - 1})`;
  return `${parts.join("; ")} · ${seeds} per setting${setup ? ` · ${setup}` : ""}`;
}

// ---- settings and paired differences (the insight views) --------------------------------------

// A setting as legends name it: "none", "L1 λ=0.001", "elastic net λ=0.001 / 0.01".
export function settingText(penalty, lam, lamL2) {
  if (penalty === "none" || !penalty) return penaltyLabel("none");
  const l2 = penalty === "elastic" && lamL2 !== undefined && lamL2 !== null ? ` / ${fmtG(lamL2, 3)}` : "";
  return `${penaltyLabel(penalty)} λ=${fmtG(lam, 3)}${l2}`;
}

// A run by its setting and seed: "L1 λ=0.001 · seed 2" (its label may be anything a person typed).
export function runSettingText(run) {
  const s = run.settings || {};
  return `${settingText(s.penalty, s.lam, s.lam_l2)} · seed ${s.seed ?? "?"}`;
}

// A signed difference of two fractions in points: 0.0123 → "+1.23 pp", −0.004 → "−0.40 pp".
export function fmtSignedPoints(v, options) {
  const x = num(v);
  if (!Number.isFinite(x)) return "—";
  return `${x > 0 ? "+" : x < 0 ? "−" : "±"}${fmtPoints(Math.abs(x), options)}`;
}

// A 95 % interval of differences in points: [−0.0128, 0.0012] → "−1.28 to +0.12 pp" (unit "": no unit).
export function fmtPointsInterval(ci, { digits = 2, unit = "pp" } = {}) {
  if (!Array.isArray(ci) || !ci.every((v) => Number.isFinite(num(v)))) return "—";
  const [lo, hi] = ci.map((v) => fmtSignedPoints(v, { digits, unit: "" }).trim());
  return `${lo} to ${hi}${unit ? ` ${unit}` : ""}`;
}

// A p-value: two significant digits, "< 0.0001" below that.
export function fmtP(v) {
  const x = num(v);
  if (!Number.isFinite(x)) return "—";
  return x < 1e-4 ? "< 0.0001" : fmtG(x, 2);
}
