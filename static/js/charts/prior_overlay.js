// The prior behind each penalty, over a weight histogram: the zero-mean Gaussian (L2's prior) and
// Laplace (L1's prior) fitted to a run's final weights by maximum likelihood, as the server's
// `prior_fit[layer].{gaussian,laplace}.expected_counts`: expected weights per bin of the same
// 80 bins the histogram draws, so they are drawn as they are, one line each. A HistogramChart
// takes them through setOverlay(priorOverlay(fits, layer)).
//
// The histogram's count axis is logarithmic and its bars start at one weight: a fitted tail far
// below that (a Gaussian's falls to 1e-30 within the bins) would stretch the axis to nothing, so
// bins expecting fewer than MIN_COUNT weights are left undrawn.

import { fmtG } from "../format.js";
import { plotlyText } from "./base.js";
import { BIN_CENTRES } from "./histogram.js";

const MIN_COUNT = 0.1;

// One run: dark lines that stand out from its bars (whatever the run's colour); several: each
// run's colour, told apart by the dash.
const FITS = [
  { kind: "gaussian", label: "Gaussian fit (L2's prior)", color: "#102a43", dash: "dash", scale: (f) => `σ = ${fmtG(f.sigma, 3)}` },
  { kind: "laplace", label: "Laplace fit (L1's prior)", color: "#b44d00", dash: "dot", scale: (f) => `b = ${fmtG(f.b, 3)}` },
];

// fits: Map run id (string) → the run's `prior_fit`; layer: "W1" or "W2".
export function priorOverlay(fits, layer) {
  return (shown) => {
    const single = shown.length === 1;
    const traces = [];
    for (const { run } of shown) {
      const fit = fits.get(String(run.id));
      const layerFit = fit && fit[layer];
      if (!layerFit) continue;
      for (const spec of FITS) {
        const f = layerFit[spec.kind];
        if (!f || !Array.isArray(f.expected_counts) || f.expected_counts.length !== BIN_CENTRES.length) continue;
        const color = single ? spec.color : run.color;
        const what = `${spec.label}: ${spec.scale(f)}, log-likelihood ${fmtG(f.loglik_per_weight, 4)} per weight`;
        traces.push({
          type: "scatter", mode: "lines", uid: `${run.id}-${spec.kind}`, meta: "prior",
          name: single ? what : `#${run.id} ${spec.label}`,
          x: BIN_CENTRES, y: f.expected_counts.map((c) => (Number(c) >= MIN_COUNT ? Number(c) : null)),
          line: { color, width: 2.5, dash: spec.dash },
          hovertemplate: `w ≈ %{x:.3f}: %{y:.3g} weights expected<extra>${plotlyText(`#${run.id}`)} ${spec.label}</extra>`,
        });
      }
    }
    return traces;
  };
}

// "W1: the Laplace fits better (log-likelihood per weight 1.567 against 1.444)", or why neither does.
export function priorVerdict(layerFit, layer) {
  if (!layerFit) return `${layer}: no fit stored`;
  const { gaussian, laplace, better } = layerFit;
  if (!better) return `${layer}: every weight is zero, neither prior fits`;
  const [win, lose] = better === "laplace" ? [laplace, gaussian] : [gaussian, laplace];
  const name = better === "laplace" ? "Laplace (L1's prior)" : "Gaussian (L2's prior)";
  return `${layer}: the ${name} fits better, log-likelihood per weight ${fmtG(win.loglik_per_weight, 4)} ` +
    `against ${fmtG(lose.loglik_per_weight, 4)} (${fmtG(layerFit.n, 6)} weights)`;
}
