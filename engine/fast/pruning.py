"""The pruning curve's accuracies from one pass over the test set, updating instead of recomputing.

``engine.pruning`` defines the curve: for each fraction, a masked copy of the network and a
full forward pass, about 26 products of the test set with W1 (the costly layer). But the
pruned sets are nested: W1 loses its weights in one fixed order (``magnitude_order``) for
both schemes, so every point of both curves is the same W1 with a longer prefix of that
order zeroed. Here the first layer's pre-activations ``Z = W1ᵀ·x`` are computed once per
chunk of examples, and each further prefix subtracts only the terms of the weights it adds
(``kernels.subtract_unit_terms``): about one product's worth of work for all the points.
The later layers (small) are evaluated in full at each point with their own masks.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..network import Network
from ..pruning import Prepare, keep_masks, magnitude_order, pruned_count
from .activations import fast_activation
from .kernels import subtract_unit_terms

# Examples per cache block: a block's inputs (784 × 256 float32, 0.8 MB) and
# pre-activations stay in a core's L2 cache while every term of a step is applied.
BLOCK = 256
# Blocks per chunk (one thread's unit of work): large enough for efficient products, small enough
# that a chunk's inputs, held three ways while it is prepared, stay near 10 MB per thread.
BLOCKS_PER_CHUNK = 4


@dataclass(frozen=True)
class _Point:
    """One point of a curve: how many of W1's weights (in order) are zeroed, and the later layers' weights."""

    first_pruned: int
    later_weights: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class _Step:
    """The weights zeroed between two points, grouped by hidden unit (see ``subtract_unit_terms``)."""

    starts: np.ndarray  # (units + 1,)
    rows: np.ndarray  # input index of each weight
    values: np.ndarray  # the weight


def _points(net: Network, fractions: Sequence[float]) -> tuple[list[_Point], np.ndarray]:
    """The global points, then the first-layer points (each in ``fractions`` order), and W1's order."""
    weights = net.weights
    n1 = weights[0].size
    order = magnitude_order(weights)
    points = []
    for p in fractions:
        masks = keep_masks(weights, p, order)
        zeroed_in_first = int(np.count_nonzero(order[: pruned_count(p, order.size)] < n1))
        points.append(_Point(zeroed_in_first, tuple(w * m for w, m in zip(weights[1:], masks[1:]))))
    points += [_Point(pruned_count(p, n1), tuple(weights[1:])) for p in fractions]
    # W1's positions in the global order are W1's own order (the sort is stable).
    return points, order[order < n1]


def _step(w1: np.ndarray, positions: np.ndarray) -> _Step:
    """The weights at flat ``positions`` of ``w1``, grouped by unit (column) and by input within it."""
    features, units = w1.shape
    rows, cols = np.divmod(positions, units)
    by_unit = np.sort(cols * features + rows)  # unique keys: the sort order is fully determined
    cols, rows = np.divmod(by_unit, features)
    starts = np.searchsorted(cols, np.arange(units + 1))
    return _Step(starts.astype(np.intp), rows.astype(np.intp), w1[rows, cols])


class _Evaluator:
    """Correct counts of every point for one chunk of examples at a time."""

    def __init__(self, net: Network, points: list[_Point], first_order: np.ndarray, prepare: Prepare | None):
        self.layers = net.layers
        self.activations = [fast_activation(layer.activation) for layer in net.layers]
        self.dtype = net.layers[0].W.dtype
        self.points = points
        self.prepare = prepare or (lambda part: part)
        # Points in the order W1 loses its weights; a step is taken where the prefix grows.
        self.sequence = sorted(range(len(points)), key=lambda i: points[i].first_pruned)
        self.steps: dict[int, _Step] = {}
        zeroed = 0
        for index in self.sequence:
            k = points[index].first_pruned
            if k > zeroed:
                self.steps[index] = _step(net.layers[0].W, first_order[zeroed:k])
                zeroed = k

    def correct(self, x: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """(points,) correct counts on the rows ``x`` (raw or prepared, as ``prepare`` expects)."""
        xt, labels = self._blocks(x, labels)
        first = self.layers[0]
        zt = np.matmul(first.W.T, xt)  # (blocks, hidden, BLOCK)
        counts = np.zeros(len(self.points), dtype=np.int64)
        a = np.empty_like(zt)
        for index in self.sequence:
            step = self.steps.get(index)
            if step is not None:
                subtract_unit_terms(zt, xt, step.starts, step.rows, step.values)
            np.add(zt, first.b[:, None], out=a)
            out = self.activations[0].forward(a)
            for layer, activation, w in zip(self.layers[1:], self.activations[1:], self.points[index].later_weights):
                out = np.matmul(w.T, out)
                out += layer.b[:, None]
                out = activation.forward(out)
            counts[index] = np.count_nonzero(out.argmax(axis=1) == labels)
        return counts

    def _blocks(self, x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inputs as (blocks, features, BLOCK) and labels as (blocks, BLOCK); padding rows are zeros labelled -1."""
        prepared = np.asarray(self.prepare(x), dtype=self.dtype)
        n, features = prepared.shape
        blocks = -(-n // BLOCK)
        padded = np.zeros((blocks * BLOCK, features), dtype=self.dtype)
        padded[:n] = prepared
        padded_labels = np.full(blocks * BLOCK, -1, dtype=np.intp)
        padded_labels[:n] = labels
        xt = np.ascontiguousarray(padded.reshape(blocks, BLOCK, features).transpose(0, 2, 1))
        return xt, padded_labels.reshape(blocks, BLOCK)


def fast_correct(net: Network, x: np.ndarray, labels: np.ndarray, fractions: Sequence[float], *,
                 prepare: Prepare | None = None, threads: int = 1) -> tuple[list[int], list[int]]:
    """Correct counts per fraction, ``(global, first_layer)``: ``engine.pruning.readable_correct``'s numbers.

    ``x`` (n, features) and ``labels`` (n,) as for ``pruning_curve``; chunks of examples go to
    ``threads`` threads (the kernel and the products leave the interpreter).
    """
    points, first_order = _points(net, fractions)
    evaluator = _Evaluator(net, points, first_order, prepare)
    chunk = BLOCK * BLOCKS_PER_CHUNK
    starts = range(0, len(labels), chunk)
    work = lambda start: evaluator.correct(x[start : start + chunk], labels[start : start + chunk])  # noqa: E731
    if threads > 1 and len(starts) > 1:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="normlab-pruning") as pool:
            totals = sum(pool.map(work, starts))
    else:
        totals = sum(map(work, starts))
    k = len(fractions)
    return [int(c) for c in totals[:k]], [int(c) for c in totals[k:]]
