"""Gaussian (L2) and Laplace (L1) priors fitted to weights, against closed forms."""
import json
import math

import numpy as np
import pytest
from scipy import stats

from engine.metrics import HIST_EDGES, weight_stats
from engine.priors import fit_network_priors, fit_priors


def test_fits_on_fixed_numbers_match_the_closed_forms():
    w = np.array([[1.0, -1.0], [2.0, -2.0]])
    fit = fit_priors(w)
    # σ² = mean w² = (1 + 1 + 4 + 4) / 4 = 2.5; b = mean |w| = 1.5
    assert fit["n"] == 4
    assert fit["gaussian"]["sigma"] == pytest.approx(math.sqrt(2.5))
    assert fit["laplace"]["b"] == pytest.approx(1.5)
    assert fit["gaussian"]["loglik_per_weight"] == pytest.approx(-0.5 * math.log(2 * math.pi * 2.5) - 0.5)
    assert fit["laplace"]["loglik_per_weight"] == pytest.approx(-math.log(3.0) - 1)
    # ... which are the mean log-densities of the weights under the fitted distributions
    assert fit["gaussian"]["loglik_per_weight"] == pytest.approx(np.mean(stats.norm.logpdf(w, scale=math.sqrt(2.5))))
    assert fit["laplace"]["loglik_per_weight"] == pytest.approx(np.mean(stats.laplace.logpdf(w, scale=1.5)))
    # −1.4189 − 0.5 = −1.919 (Gaussian) against −1.0986 − 1 = −2.099 (Laplace): Gaussian fits better
    assert fit["better"] == "gaussian"


def test_sparse_weights_are_called_laplace():
    rng = np.random.default_rng(0)
    w = rng.laplace(scale=0.01, size=5000) * (rng.random(5000) < 0.3)  # mostly (near) zero, a few larger
    assert fit_priors(w)["better"] == "laplace"
    assert fit_priors(rng.normal(scale=0.1, size=5000))["better"] == "gaussian"


def test_expected_counts_follow_the_histogram_bins():
    rng = np.random.default_rng(1)
    w = rng.normal(scale=0.3, size=(200, 50)).astype(np.float32)
    fit = fit_priors(w)
    sigma = fit["gaussian"]["sigma"]
    counts = np.array(fit["gaussian"]["expected_counts"])
    assert counts.shape == (len(HIST_EDGES) - 1,)
    assert counts.sum() == pytest.approx(w.size, abs=0.05)
    # an inner bin: n·(Φ(hi/σ) − Φ(lo/σ)); an end bin takes its tail (values below -1 are counted in it)
    assert counts[45] == pytest.approx(w.size * np.diff(stats.norm.cdf(HIST_EDGES[45:47], scale=sigma))[0], abs=1e-3)
    assert counts[0] == pytest.approx(w.size * stats.norm.cdf(HIST_EDGES[1], scale=sigma), abs=1e-3)
    # and they resemble the histogram a page draws them over
    histogram = np.array(weight_stats("W1", w).histogram)
    assert np.abs(counts - histogram).sum() < 0.1 * w.size


def test_all_zero_weights_give_no_nan_or_infinity():
    fit = fit_priors(np.zeros((3, 4)))
    json.dumps(fit, allow_nan=False)  # raises on NaN or ±inf
    assert fit["gaussian"]["sigma"] == 0.0 and fit["laplace"]["b"] == 0.0 and fit["better"] is None
    assert fit["gaussian"]["loglik_per_weight"] is None and fit["laplace"]["loglik_per_weight"] is None
    counts = fit["laplace"]["expected_counts"]
    assert counts[40] == 12 and sum(counts) == 12  # the point mass falls in the bin [0, 0.025), as 0 would


def test_network_fits_per_matrix_and_together():
    w1, w2 = np.full((3, 2), 0.5), np.full((2, 2), -0.25)
    fits = fit_network_priors([w1, w2])
    assert set(fits) == {"W1", "W2", "all"}
    assert fits["W1"]["laplace"]["b"] == 0.5 and fits["W2"]["laplace"]["b"] == 0.25
    assert fits["all"]["n"] == 10 and fits["all"]["laplace"]["b"] == pytest.approx((6 * 0.5 + 4 * 0.25) / 10)
    json.dumps(fits, allow_nan=False)
