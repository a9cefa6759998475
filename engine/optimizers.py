"""Stochastic gradient descent, optionally with (heavy-ball) momentum."""
from __future__ import annotations

import numpy as np


class SGD:
    """Gradient descent on a list of parameters, updated in place.

    ``update = momentum·update_prev + lr·grad``; ``param -= update`` (numpy-ml's form).
    With ``momentum = 0`` this is plain SGD, ``param -= lr·grad``. The previous update
    of each parameter is kept by its position in ``params``, so every call passes the
    parameters in the same order.
    """

    def __init__(self, lr: float, momentum: float = 0.0):
        self.lr = float(lr)
        self.momentum = float(momentum)
        self._updates: dict[int, np.ndarray] = {}

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Move every parameter against its gradient (``grads[i]`` shaped like ``params[i]``)."""
        for i, (param, grad) in enumerate(zip(params, grads)):
            update = self.lr * grad
            if self.momentum:
                if i in self._updates:
                    update += self.momentum * self._updates[i]
                self._updates[i] = update
            param -= update

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr:g}, momentum={self.momentum:g})"
