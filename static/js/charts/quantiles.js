// "Ignore outliers": a y range that covers the 5–95 % quantiles of the values (plus 10 % of that
// span on each side), as TensorBoard's "ignore outliers in chart scaling" does. The view of a
// spiky loss then shows where the curve spends its time, not its first batches or a diverging
// spike. Long series are sampled at an even stride (at most SAMPLE values), which moves a quantile
// by well under one percentile. For a log axis the range is in log10 units (what Plotly expects)
// and only positive values count. Returns null when there is too little.

const SAMPLE = 20000;

export function quantileRange(values, { log = false, low = 0.05, high = 0.95 } = {}) {
  const stride = Math.max(1, Math.ceil(values.length / SAMPLE));
  const kept = [];
  for (let i = 0; i < values.length; i += stride) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v) || (log && v <= 0)) continue;
    kept.push(log ? Math.log10(v) : v);
  }
  if (kept.length < 2) return null;
  kept.sort((a, b) => a - b);
  const at = (q) => {
    const pos = q * (kept.length - 1);
    const i = Math.floor(pos);
    return i + 1 < kept.length ? kept[i] + (pos - i) * (kept[i + 1] - kept[i]) : kept[i];
  };
  let lo = at(low);
  let hi = at(high);
  if (hi - lo < 1e-12) {
    const pad = Math.max(Math.abs(hi) * 0.05, 1e-6);
    lo -= pad;
    hi += pad;
  }
  const pad = 0.1 * (hi - lo);
  return [lo - pad, hi + pad];
}

// An axis's range settings: a fixed range, or autorange (said explicitly, so turning a fixed
// range off takes effect).
export function rangeOrAuto(range) {
  return range ? { range, autorange: false } : { autorange: true };
}
