// TensorBoard's debiased exponential moving average, for the per-batch loss.
//
//   last = last * w + (1 - w) * y;   debias = 1 - w^(i + 1);   smoothed = last / debias
//
// where i counts the finite points seen so far. Debiasing removes the pull towards 0 that a
// plain EMA started at 0 has on its first points. Non-finite values (NaN, ±Infinity) are passed
// through unchanged and do not advance the average. w = 0 gives the raw series.

export class Smoother {
  constructor(weight = 0.6) {
    this.weight = clampWeight(weight);
    this.reset();
  }

  reset() {
    this.last = 0;
    this.count = 0;
  }

  push(y) {
    if (!Number.isFinite(y)) return y;
    const w = this.weight;
    this.last = this.last * w + (1 - w) * y;
    this.count += 1;
    const debias = w === 0 ? 1 : 1 - Math.pow(w, this.count);
    return this.last / debias;
  }
}

export function smooth(values, weight) {
  const s = new Smoother(weight);
  const out = new Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = s.push(values[i]);
  return out;
}

function clampWeight(w) {
  const x = Number(w);
  if (!Number.isFinite(x) || x < 0) return 0;
  return Math.min(x, 0.999);
}
