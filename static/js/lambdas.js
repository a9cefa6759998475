// λ lists as a person types them, and log ranges as the server expands them (engine.studies.log_range).

// "1e-4, 1e-3; 0.01" → {values} or {error}; each λ must be in (min, max], at most 20 of them.
export function parseLambdaList(text, { min = 0, max = 10, most = 20 } = {}) {
  const parts = String(text).split(/[\s,;]+/).filter(Boolean);
  if (!parts.length) return { error: "give at least one λ, e.g. 1e-4, 1e-3, 1e-2" };
  const values = [];
  for (const part of parts) {
    const v = Number(part);
    if (!Number.isFinite(v)) return { error: `${part.slice(0, 20)} is not a number` };
    if (!(v > min && v <= max)) return { error: `each λ must be above ${min} and at most ${max}; got ${part.slice(0, 20)}` };
    values.push(v);
  }
  if (values.length > most) return { error: `at most ${most} values, got ${values.length}` };
  return { values };
}

// `count` values evenly spaced on a log scale from low to high, rounded to 3 significant digits
// (numpy.geomspace, then float(f"{v:.3g}"), as the server does).
export function logRange(low, high, count) {
  if (count === 1) return [Number(low.toPrecision(3))];
  const a = Math.log10(low);
  const b = Math.log10(high);
  const out = [];
  for (let i = 0; i < count; i++) {
    const v = i === 0 ? low : i === count - 1 ? high : 10 ** (a + ((b - a) * i) / (count - 1));
    out.push(Number(v.toPrecision(3)));
  }
  return out;
}
