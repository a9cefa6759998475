// Downsampling long series for the view only (the full series stays in memory, the store and
// the exports), so a draw costs about the same at 1 000 or 300 000 points.

// Points per trace after downsampling: WebGL draws thousands of points cheaply; SVG paths slow
// down past ~10k points per figure (plotly.js #553), so SVG keeps fewer.
export const MAX_VIEW_POINTS = { gl: 4000, svg: 1500 };

// M4 decimation (Jugel et al., "M4: a visualization-oriented time series data aggregation", VLDB
// 2014). The x range is cut into buckets of k consecutive points (k a power of two, the smallest
// giving at most maxPoints/4 buckets); each bucket contributes its first, lowest, highest and last
// point, in x order. Unlike keeping every k-th point this keeps spikes (a diverging batch stays
// visible), the band the raw loss moves in, and the exact first and latest point of the run.
// Complete buckets are cached; while k stays the same only the last, partial bucket is
// recomputed, and k doubles only when the history does, so appending is cheap. Points with a null
// y (NaN loss) are kept as gaps.
export class MinMaxDecimator {
  constructor(maxPoints = MAX_VIEW_POINTS.gl) {
    this.maxPoints = maxPoints;
    this.reset();
  }

  reset() {
    this.k = 0;
    this.buckets = 0;
    this.x = [];
    this.y = [];
  }

  view(xs, ys) {
    const n = xs.length;
    if (n <= this.maxPoints) return { x: xs, y: ys };
    const target = Math.ceil(n / Math.floor(this.maxPoints / 4));
    let k = 1;
    while (k < target) k *= 2;
    if (k !== this.k) {
      this.reset();
      this.k = k;
    }
    const complete = Math.floor(n / k);
    for (let b = this.buckets; b < complete; b++) bucket(xs, ys, b * k, (b + 1) * k, this.x, this.y);
    this.buckets = complete;
    if (complete * k === n) return { x: this.x, y: this.y };
    const tx = [];
    const ty = [];
    bucket(xs, ys, complete * k, n, tx, ty);
    return { x: this.x.concat(tx), y: this.y.concat(ty) };
  }
}

function bucket(xs, ys, from, to, outX, outY) {
  let iMin = -1;
  let iMax = -1;
  let gap = -1;
  for (let i = from; i < to; i++) {
    const y = ys[i];
    if (y === null) {
      if (gap < 0) gap = i;
      continue;
    }
    if (iMin < 0 || y < ys[iMin]) iMin = i;
    if (iMax < 0 || y > ys[iMax]) iMax = i;
  }
  // First, extremes, a gap marker if any, last: sorted by index, each index once.
  const picks = [from, iMin, iMax, gap, to - 1].filter((i) => i >= 0).sort((a, b) => a - b);
  let previous = -1;
  for (const i of picks) {
    if (i === previous) continue;
    previous = i;
    outX.push(xs[i]);
    outY.push(ys[i]);
  }
}
