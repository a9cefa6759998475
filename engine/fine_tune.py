"""Pruning curves after a short fine-tune with each pruning mask held fixed.

Without retraining (``engine.pruning``), the curve asks whether the network uses the
weights it has. After pruning, a few hundred steps of the run's own training (its
penalty, learning rate and momentum, on its training subset) with the pruned weights held
at zero ask a second question: can the rest of the network make up for them? Every point
of both schemes, the unpruned one included, gets the same steps on the same batches, so
the points differ only in their masks.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .config import RunConfig
from .network import Network
from .penalties import make_penalty
from .pruning import (
    PRUNING_FRACTIONS,
    Prepare,
    PruningCurve,
    check_fractions,
    count_correct,
    keep_masks,
    magnitude_order,
    masked_network,
    prunable_fraction,
)
from .stepping import make_stepper

FINE_TUNE_STEPS = 300
MAX_FINE_TUNE_STEPS = 10_000


def fine_tune_batches(n: int, steps: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``steps`` batches of row indices into ``n`` training examples: shuffled passes, as training draws them."""
    passes = -(-steps * batch_size // n)
    order = np.concatenate([rng.permutation(n) for _ in range(passes)])
    return [order[i * batch_size : (i + 1) * batch_size] for i in range(steps)]


def fine_tuned(net: Network, masks: Sequence[np.ndarray], config: RunConfig, x: np.ndarray, labels: np.ndarray,
               batches: Sequence[np.ndarray], prepare: Prepare | None = None) -> Network:
    """A copy of ``net`` with ``masks`` applied, trained on ``batches`` of ``x`` as ``config`` trains.

    The masks are applied again after every step, so the pruned weights stay at zero.

    ``x`` (n, features) raw or prepared (see ``prepare``), ``labels`` (n,); ``masks`` one
    boolean array per weight matrix (False: held at zero). ``net`` is not changed.
    """
    prepare = prepare or (lambda part: part)
    copy = masked_network(net, masks)
    stepper = make_stepper(config, copy, make_penalty(config.penalty, config.lam, config.lam_l2))
    for rows in batches:
        stepper.step(np.asarray(prepare(x[rows]), dtype=copy.layers[0].W.dtype), labels[rows])
        for layer, mask in zip(copy.layers, masks):
            layer.W *= mask  # in place: the stepper holds these very arrays
    return copy


def fine_tuned_pruning_curve(net: Network, config: RunConfig, x_train: np.ndarray, y_train: np.ndarray,
                             x_test: np.ndarray, y_test: np.ndarray, rng: np.random.Generator,
                             steps: int = FINE_TUNE_STEPS, fractions: Sequence[float] = PRUNING_FRACTIONS,
                             prepare: Callable[[np.ndarray], np.ndarray] | None = None) -> PruningCurve:
    """``pruning_curve``'s points, each fine-tuned for ``steps`` steps before it is measured.

    ``x_train`` (n, features) and ``y_train`` (n,) are the run's training subset, ``x_test``
    and ``y_test`` its test set (raw with ``prepare``, as for ``pruning_curve``); ``rng`` draws
    the batches, once, for every point. The prunable fraction is judged against the
    fine-tuned unpruned network (point 0), which had the same extra steps.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_FINE_TUNE_STEPS:
        raise ValueError(f"steps: must be a whole number from 1 to {MAX_FINE_TUNE_STEPS}")
    fractions = check_fractions(fractions)
    batches = fine_tune_batches(len(y_train), steps, config.batch_size, rng)
    weights = net.weights
    whole = [np.ones(w.shape, dtype=bool) for w in weights[1:]]
    order_all, order_first = magnitude_order(weights), magnitude_order(weights[:1])
    schemes = (lambda p: keep_masks(weights, p, order_all), lambda p: keep_masks(weights[:1], p, order_first) + whole)
    counts = []
    for masks_for in schemes:
        tuned = (fine_tuned(net, masks_for(p), config, x_train, y_train, batches, prepare) for p in fractions)
        counts.append([count_correct(network, x_test, y_test, prepare) for network in tuned])
    n = len(y_test)
    return PruningCurve(fractions, tuple(c / n for c in counts[0]), tuple(c / n for c in counts[1]),
                        prunable_fraction(fractions, counts[0], n), prunable_fraction(fractions, counts[1], n))
