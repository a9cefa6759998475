"""One training step on one batch, and the one place that chooses how it is computed.

The readable step is the textbook's: ``Network.loss_and_grads`` (forward, loss,
backward, penalty) and then ``SGD.step``. ``engine.fast`` computes the same step in
fewer calls and passes over the weights; that is what runs train, and
tests/engine/test_sgd_step.py holds the two to the same weights.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from .config import RunConfig
from .fast import FusedMomentum, FusedSGD
from .fast.products import ProductPool
from .losses import DIVERGENCE_LOSS
from .network import Network
from .optimizers import SGD
from .penalties import Penalty


class Stepper(Protocol):
    """Takes the optimizer's step on one batch."""

    def step(self, x: np.ndarray, labels: np.ndarray) -> tuple[float, float, np.ndarray]:
        """Step on inputs ``x`` (n, features) with ``labels`` (n,); return ``(data_loss, penalty, predicted)``.

        All three describe the weights before the step (``predicted`` is each row's class,
        (n,)). A data loss above ``DIVERGENCE_LOSS`` (or NaN) takes no step: the run ends there.
        """
        ...


class ReadableStepper:
    """The textbook step: gradients from ``Network.loss_and_grads``, then ``SGD.step``."""

    def __init__(self, network: Network, penalty: Penalty, optimizer: SGD):
        self.network, self.penalty, self.optimizer = network, penalty, optimizer

    def step(self, x: np.ndarray, labels: np.ndarray) -> tuple[float, float, np.ndarray]:
        """See ``Stepper.step``."""
        data_loss, penalty_value, logits = self.network.loss_and_grads(x, labels, self.penalty)
        if data_loss <= DIVERGENCE_LOSS:
            self.optimizer.step(self.network.params, self.network.grads)
        return data_loss, penalty_value, logits.argmax(axis=1)

    def __repr__(self) -> str:
        return f"ReadableStepper({self.optimizer!r}, {self.penalty!r})"


def make_stepper(config: RunConfig, network: Network, penalty: Penalty, *, readable: bool = False,
                 pool: ProductPool | None = None) -> Stepper:
    """The stepper for ``config``'s optimizer: fused, or the readable one when asked (for tests).

    Both give the same weights up to rounding; runs use the fused ones because they
    spare NumPy's per-call overhead and the extra passes over the weights. ``pool`` holds
    the threads the fused steps share their large products with (one thread without it).
    """
    if readable:
        return ReadableStepper(network, penalty, SGD(config.lr, config.momentum))
    if config.momentum:
        return FusedMomentum(network, penalty, config.lr, config.momentum, pool)
    return FusedSGD(network, penalty, config.lr, pool)
