"""What a person can learn from a network's weights and predictions, computed cheaply."""
from __future__ import annotations

import numpy as np

from .events import WeightStats

SPARSITY_THRESHOLD = 1e-3
# Fixed histogram bins so histograms from different runs and epochs line up:
# 80 equal bins over [-1, 1]; values outside fall into the first or last bin.
HIST_EDGES = np.linspace(-1.0, 1.0, 81)
# |w| on a log scale, where L1's weights below the sparsity threshold are told apart from the rest
# (the equal bins above hold them all in one): 4 bins per decade over [1e-8, 1]; smaller |w|
# (exact zeros among them) fall into the first bin, larger into the last.
LOG_HIST_EDGES = np.logspace(-8.0, 0.0, 33)


def weight_stats(name: str, w: np.ndarray) -> WeightStats:
    """Norms, the fraction of entries with |w| < SPARSITY_THRESHOLD, and the histograms of w and of |w|."""
    flat = w.ravel()
    absw = np.abs(flat)
    clipped = np.clip(flat, HIST_EDGES[0], HIST_EDGES[-1])
    counts, _ = np.histogram(clipped, bins=HIST_EDGES)
    log_counts, _ = np.histogram(np.clip(absw, LOG_HIST_EDGES[0], LOG_HIST_EDGES[-1]), bins=LOG_HIST_EDGES)
    return WeightStats(
        name=name,
        shape=tuple(int(d) for d in w.shape),
        l1=float(absw.sum(dtype=np.float64)),
        l2=float(np.sqrt(np.dot(flat.astype(np.float64), flat.astype(np.float64)))),
        sparsity=float(np.mean(absw < SPARSITY_THRESHOLD)),
        histogram=tuple(int(c) for c in counts),
        log_histogram=tuple(int(c) for c in log_counts),
    )


def overall_sparsity(weights: list[np.ndarray]) -> float:
    """The fraction of all weight-matrix entries with |w| < SPARSITY_THRESHOLD."""
    small = sum(int(np.count_nonzero(np.abs(w) < SPARSITY_THRESHOLD)) for w in weights)
    return small / sum(w.size for w in weights)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int = 10) -> tuple[tuple[int, ...], ...]:
    """Counts of (true class, predicted class) pairs; rows are true classes."""
    counts = np.bincount(labels * classes + predicted, minlength=classes * classes)
    return tuple(tuple(int(c) for c in row) for row in counts.reshape(classes, classes))


def first_layer_images(w1: np.ndarray, side: int = 28) -> np.ndarray:
    """Each hidden unit's incoming weights as a (side × side) image: (hidden, side, side)."""
    images = np.ascontiguousarray(w1.T, dtype=np.float32).reshape(-1, side, side)
    images.flags.writeable = False
    return images


def dead_units(w1: np.ndarray) -> int:
    """Hidden units whose incoming weights are all below SPARSITY_THRESHOLD (pruned away)."""
    return int(np.count_nonzero(np.all(np.abs(w1) < SPARSITY_THRESHOLD, axis=0)))


def input_importance(w1: np.ndarray) -> np.ndarray:
    """Each input's total outgoing weight ``Σⱼ |W1[i, j]|``: (features,) float64.

    An input the network stopped looking at has (nearly) nothing leaving it; on MNIST a
    page shows the 784 values as a 28 × 28 image.
    """
    return np.abs(w1).sum(axis=1, dtype=np.float64)


def dead_inputs(w1: np.ndarray) -> int:
    """Inputs whose outgoing weights are all below SPARSITY_THRESHOLD in magnitude (ignored by the network)."""
    return int(np.count_nonzero(np.all(np.abs(w1) < SPARSITY_THRESHOLD, axis=1)))


def unit_norms(w1: np.ndarray) -> np.ndarray:
    """Each hidden unit's incoming weight norm ``‖W1[:, j]‖₂``, largest first: (hidden,) float64.

    Sorted, so runs with different λ line up rank by rank (the regularisation path).
    """
    w = w1.astype(np.float64)
    return np.sort(np.sqrt(np.einsum("ij,ij->j", w, w)))[::-1]


def active_weights(weights: list[np.ndarray]) -> int:
    """Weight-matrix entries with ``|w| ≥ SPARSITY_THRESHOLD``, over all matrices."""
    return sum(int(np.count_nonzero(np.abs(w) >= SPARSITY_THRESHOLD)) for w in weights)
