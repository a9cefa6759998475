"""Stochastic gradient descent, optionally with (heavy-ball) momentum.

The optimizer receives *steps*: gradients already multiplied by the learning
rate (see ``Network.loss_and_grads(scale=lr)``), so a plain SGD update is one
pass over each parameter.
"""
from __future__ import annotations

import numpy as np


class SGD:
    """``v = momentum·v + lr·g``; ``p -= v`` (plain SGD ``p -= lr·g`` when momentum is 0)."""

    def __init__(self, lr: float, momentum: float = 0.0):
        self.lr = float(lr)
        self.momentum = float(momentum)
        self._velocity: dict[int, np.ndarray] = {}

    def step(self, params: list[np.ndarray], steps: list[np.ndarray]) -> None:
        """Update every parameter in place from its step ``lr·g`` (steps may be overwritten)."""
        for i, (p, s) in enumerate(zip(params, steps)):
            if self.momentum:
                v = self._velocity.get(i)
                if v is None:
                    v = self._velocity[i] = np.zeros_like(p)
                v *= self.momentum
                v += s
                s = v
            p -= s

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr:g}, momentum={self.momentum:g})"
