// Small formatting and run helpers shared by the pages.

export const LIVE_STATUSES = new Set(["queued", "running"]);
export const isLive = (status) => LIVE_STATUSES.has(status);

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
  return stripZeros(x.toPrecision(digits));
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

// Timestamps from the API are seconds since the epoch (REAL); accept ISO strings too.
export function toEpochSeconds(t) {
  if (t === null || t === undefined || t === "") return null;
  if (typeof t === "number") return t;
  const asNum = Number(t);
  if (Number.isFinite(asNum)) return asNum;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : ms / 1000;
}

export function runSeconds(run, now = Date.now() / 1000) {
  // A finished run's own measure (engine seconds) is precise; timestamps have 1 s resolution.
  const fromResult = run.result ? num(run.result.seconds) : NaN;
  if (!isLive(run.status) && Number.isFinite(fromResult)) return fromResult;
  const started = toEpochSeconds(run.started);
  if (started === null) return Number.isFinite(fromResult) ? fromResult : null;
  const finished = toEpochSeconds(run.finished);
  if (finished !== null) return Math.max(0, finished - started);
  if (run.status === "running") return Math.max(0, now - started);
  return null;
}

export const PENALTY_NAMES = { none: "none", l1: "L1", l2: "L2", elastic: "elastic" };

export function penaltyName(run) {
  const p = run.settings && run.settings.penalty;
  return PENALTY_NAMES[p] || p || "?";
}

export function lambdaText(run) {
  const s = run.settings || {};
  if (s.penalty === "none") return "—";
  if (s.penalty === "elastic") return `${fmtG(s.lam)} / ${fmtG(s.lam_l2)}`;
  return fmtG(s.lam);
}

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

// Write text only when it changes (no needless DOM mutations or screen-reader repeats).
export function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child);
  }
  return node;
}
