"""Pruning curves: test accuracy after zeroing the smallest-magnitude weights, without retraining.

Is L1's sparsity real? If a penalty left many weights near zero and the network no longer
needs them, setting them to exactly zero costs (almost) nothing. For each fraction ``p``
of a fixed grid, the ``round(p·n)`` weights of smallest ``|w|`` are set to zero:

* globally, over all weight matrices together (``n`` counts every weight entry), and
* in the first layer alone (``n`` counts W1's entries; the other layers stay whole).

Biases are never pruned. Ties in ``|w|`` are broken by position (row-major order within a
matrix, W1 before W2), so the pruned set is exactly determined. The pruned sets grow with
``p`` (each contains the one before), which the fast path (``engine.fast.pruning``) uses
to update the first layer's pre-activations instead of recomputing them.

The **prunable fraction** is the largest ``p`` whose accuracy is within one point (0.01)
of the unpruned network's.

Here is the readable definition: one masked copy of the network and a full forward pass
per fraction. ``pruning_curve`` computes the same numbers through the fast path unless
asked for this one (tests hold the two to the same accuracies).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .layers import Dense
from .network import Network

# The grid of pruned fractions: every 10 % and then the far end, where sparse networks differ.
PRUNING_FRACTIONS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
# "Within one point of the unpruned run": an absolute drop in accuracy of at most 0.01.
PRUNABLE_TOLERANCE = 0.01

Prepare = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class PruningCurve:
    """Accuracy against the pruned fraction, globally and for the first layer alone.

    ``fractions`` (k,) ascending from 0; ``accuracy_global`` and ``accuracy_first_layer`` (k,)
    are the test accuracies at those fractions; the prunable fractions are among ``fractions``.
    """

    fractions: tuple[float, ...]
    accuracy_global: tuple[float, ...]
    accuracy_first_layer: tuple[float, ...]
    prunable_fraction_global: float
    prunable_fraction_first_layer: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the API: ``{"fractions", "accuracy": {...}, "prunable_fraction": {...}}``."""
        return {
            "fractions": list(self.fractions),
            "accuracy": {"global": list(self.accuracy_global), "first_layer": list(self.accuracy_first_layer)},
            "prunable_fraction": {"global": self.prunable_fraction_global,
                                  "first_layer": self.prunable_fraction_first_layer},
        }


def pruned_count(fraction: float, size: int) -> int:
    """How many of ``size`` weights a fraction prunes: ``round(fraction·size)``, halves rounded up."""
    return min(size, int(math.floor(fraction * size + 0.5)))


def magnitude_order(weights: Sequence[np.ndarray]) -> np.ndarray:
    """Flat positions in the concatenation of ``w.ravel()`` for ``weights``, smallest ``|w|`` first.

    The sort is stable, so equal magnitudes keep their order of position. Restricted to one
    matrix's positions it is that matrix's own order, so the global and the first-layer
    schemes prune W1 in the same sequence.
    """
    magnitudes = np.concatenate([np.abs(w).ravel() for w in weights])
    return np.argsort(magnitudes, kind="stable")


def keep_masks(weights: Sequence[np.ndarray], fraction: float, order: np.ndarray | None = None) -> list[np.ndarray]:
    """Boolean masks shaped like each matrix: False for the ``round(fraction·n)`` smallest ``|w|`` over all."""
    order = magnitude_order(weights) if order is None else order
    keep = np.ones(sum(w.size for w in weights), dtype=bool)
    keep[order[: pruned_count(fraction, keep.size)]] = False
    masks, start = [], 0
    for w in weights:
        masks.append(keep[start : start + w.size].reshape(w.shape))
        start += w.size
    return masks


def prunable_fraction(fractions: Sequence[float], correct: Sequence[int], n: int) -> float:
    """The largest fraction whose accuracy is at most ``PRUNABLE_TOLERANCE`` below ``correct[0]``'s.

    Compared in whole counts (``correct`` of ``n``), so no rounding decides the boundary;
    ``fractions[0]`` must be 0, the unpruned network.
    """
    # Counts are whole numbers, so a margin far below one example only absorbs the float
    # error of PRUNABLE_TOLERANCE · n (a tolerance need not be exact in binary).
    allowed_drop = PRUNABLE_TOLERANCE * n + 1e-9
    within = [p for p, c in zip(fractions, correct) if correct[0] - c <= allowed_drop]
    return float(max(within))


def check_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    """The fractions as floats, if they start at 0, strictly increase and stay within [0, 1]."""
    values = tuple(float(p) for p in fractions)
    if not values or values[0] != 0.0:
        raise ValueError("fractions: must start at 0.0 (the unpruned network)")
    if any(not (0.0 <= p <= 1.0) for p in values) or any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError("fractions: must increase strictly and stay within 0 to 1")
    return values


def masked_network(net: Network, masks: Sequence[np.ndarray]) -> Network:
    """A copy of ``net`` with each weight matrix multiplied by its mask; biases and activations unchanged."""
    return Network([Dense(layer.W * mask, layer.b.copy(), layer.activation) for layer, mask in zip(net.layers, masks)])


def count_correct(net: Network, x: np.ndarray, labels: np.ndarray, prepare: Prepare | None = None) -> int:
    """How many rows of ``x`` (n, features; raw if ``prepare`` maps them) ``net`` classifies as ``labels`` (n,)."""
    return int(np.count_nonzero(net.predict_logits(x, prepare=prepare).argmax(axis=1) == labels))


def readable_correct(net: Network, x: np.ndarray, labels: np.ndarray, fractions: Sequence[float],
                     prepare: Prepare | None = None) -> tuple[list[int], list[int]]:
    """Correct counts per fraction, ``(global, first_layer)``, by one masked forward pass each."""
    weights = net.weights
    order_all, order_first = magnitude_order(weights), magnitude_order(weights[:1])
    whole = [np.ones(w.shape, dtype=bool) for w in weights[1:]]
    global_counts = [count_correct(masked_network(net, keep_masks(weights, p, order_all)), x, labels, prepare)
                     for p in fractions]
    first_counts = [count_correct(masked_network(net, keep_masks(weights[:1], p, order_first) + whole), x, labels,
                                  prepare) for p in fractions]
    return global_counts, first_counts


def pruning_curve(net: Network, x: np.ndarray, labels: np.ndarray, fractions: Sequence[float] = PRUNING_FRACTIONS,
                  *, prepare: Prepare | None = None, readable: bool = False, threads: int = 1) -> PruningCurve:
    """Test accuracy of ``net`` with each fraction of its smallest weights set to zero; no retraining.

    Parameters
    ----------
    net : the trained network (not changed).
    x : (n, features) test inputs, already prepared, or raw (e.g. uint8 pixels) with ``prepare``
        mapping a chunk of rows to the network's inputs.
    labels : (n,) integer classes.
    fractions : ascending from 0.0 (see ``check_fractions``); default ``PRUNING_FRACTIONS``.
    readable : one masked forward pass per fraction instead of the fast path (same accuracies up
        to the rounding of near-ties; for tests).
    threads : threads the fast path may use (chunks of examples in parallel).
    """
    fractions = check_fractions(fractions)
    labels = np.asarray(labels)
    n = len(labels)
    if n == 0:
        raise ValueError("labels: there are no test examples to measure accuracy on")
    if readable:
        global_counts, first_counts = readable_correct(net, x, labels, fractions, prepare)
    else:
        from .fast.pruning import fast_correct  # the fast path builds on this module's definitions

        global_counts, first_counts = fast_correct(net, x, labels, fractions, prepare=prepare, threads=threads)
    return PruningCurve(
        fractions=fractions,
        accuracy_global=tuple(c / n for c in global_counts),
        accuracy_first_layer=tuple(c / n for c in first_counts),
        prunable_fraction_global=prunable_fraction(fractions, global_counts, n),
        prunable_fraction_first_layer=prunable_fraction(fractions, first_counts, n),
    )
