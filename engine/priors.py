"""The prior behind each penalty, fitted to a trained network's weights.

Minimising ``data loss + ½λ‖W‖²`` is maximum a posteriori estimation under a zero-mean
Gaussian prior on each weight, and ``data loss + λ‖W‖₁`` under a zero-mean Laplace prior
(the MAP reading of the two penalties). Fitting both densities to the final weights by
maximum likelihood shows which prior the trained weights resemble:

* Gaussian ``N(0, σ²)``: ``σ² = mean(w²)``; log-likelihood per weight ``−½·log(2πσ²) − ½``.
* Laplace ``Laplace(0, b)``: ``b = mean(|w|)``; log-likelihood per weight ``−log(2b) − 1``.

The higher log-likelihood per weight fits better. Each fit also gives the counts it expects
in the bins of ``metrics.HIST_EDGES`` (tails folded into the end bins, as the histogram
clips), so a page can overlay it on the weight histogram as it is.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from .metrics import HIST_EDGES

PriorFit = dict[str, Any]


def gaussian_cdf(x: np.ndarray, sigma: float) -> np.ndarray:
    """P(X < x) for X ~ N(0, σ²)."""
    return np.array([0.5 * (1.0 + math.erf(v / (sigma * math.sqrt(2.0)))) for v in np.ravel(x)])


def laplace_cdf(x: np.ndarray, b: float) -> np.ndarray:
    """P(X < x) for X ~ Laplace(0, b)."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x < 0, 0.5 * np.exp(np.minimum(x, 0.0) / b), 1.0 - 0.5 * np.exp(-np.maximum(x, 0.0) / b))


def _expected_counts(cdf: Callable[[np.ndarray], np.ndarray] | None, n: int) -> list[float]:
    """Counts per histogram bin of ``n`` draws: ``n·P(lo ≤ X < hi)``, the end bins taking the tails.

    ``cdf`` None is the point mass at 0 (a fit to all-zero weights): all in the bin starting at 0.
    """
    inner = HIST_EDGES[1:-1]
    below = cdf(inner) if cdf is not None else (inner > 0).astype(float)
    mass = np.diff(np.concatenate(([0.0], below, [1.0])))
    return [round(float(c), 3) for c in n * mass]


def _fit(scale_name: str, scale: float, loglik: float | None, cdf: Callable[[np.ndarray], np.ndarray] | None,
         n: int) -> dict[str, Any]:
    return {scale_name: scale, "loglik_per_weight": loglik, "expected_counts": _expected_counts(cdf, n)}


def fit_priors(w: np.ndarray) -> PriorFit:
    """Maximum-likelihood zero-mean Gaussian and Laplace fits to the entries of ``w`` (any shape).

    Returns ``{"n", "gaussian": {"sigma", "loglik_per_weight", "expected_counts"}, "laplace":
    {"b", "loglik_per_weight", "expected_counts"}, "better": "gaussian" | "laplace"}``; the
    expected counts are per bin of ``HIST_EDGES`` (80). Weights that are all zero fit no density:
    the scales are 0, the log-likelihoods and ``better`` None, the counts a point mass at 0.
    """
    flat = np.asarray(w, dtype=np.float64).ravel()
    n = flat.size
    sigma = math.sqrt(float(np.mean(flat * flat))) if n else 0.0
    b = float(np.mean(np.abs(flat))) if n else 0.0
    if sigma > 0 and b > 0:
        loglik_gauss = -0.5 * math.log(2 * math.pi * sigma * sigma) - 0.5
        loglik_laplace = -math.log(2 * b) - 1.0
        def gauss(x: np.ndarray) -> np.ndarray:
            return gaussian_cdf(x, sigma)

        def laplace(x: np.ndarray) -> np.ndarray:
            return laplace_cdf(x, b)
        better = "laplace" if loglik_laplace > loglik_gauss else "gaussian"
    else:
        loglik_gauss = loglik_laplace = gauss = laplace = better = None
    return {
        "n": n,
        "gaussian": _fit("sigma", sigma, loglik_gauss, gauss, n),
        "laplace": _fit("b", b, loglik_laplace, laplace, n),
        "better": better,
    }


def fit_network_priors(weights: Sequence[np.ndarray]) -> dict[str, PriorFit]:
    """``fit_priors`` for each weight matrix (``"W1"``, ``"W2"``, ...) and for all their entries (``"all"``)."""
    fits = {f"W{i + 1}": fit_priors(w) for i, w in enumerate(weights)}
    fits["all"] = fit_priors(np.concatenate([np.ravel(w) for w in weights]))
    return fits
