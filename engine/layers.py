"""A fully connected layer: ``a = activation(x @ W + b)``."""
from __future__ import annotations

import numpy as np

from .activations import Activation


class Dense:
    """Dense layer holding ``W`` (n_in, n_out) and ``b`` (n_out,) and their gradients.

    ``forward`` caches its input and output for the following ``backward``.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, activation: Activation):
        self.W = W
        self.b = b
        self.activation = activation
        self.dW = np.zeros_like(W)
        self.db = np.zeros_like(b)
        self.scratch = np.empty_like(W)  # per-batch work space for penalties
        self._x: np.ndarray | None = None
        self._a: np.ndarray | None = None

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        """Return the activations for the (n, n_in) batch ``x``."""
        z = x @ self.W
        z += self.b
        a = self.activation.forward(z)
        if train:
            self._x, self._a = x, a
        return a

    def backward(self, da: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Store ``dW``, ``db`` from ``dL/da``; return ``dL/dx`` unless not needed.

        ``da`` may be overwritten. Skipping the input gradient of the first layer
        saves one of the three large matrix products per batch.
        """
        dz = self.activation.backward(self._a, da)
        np.matmul(self._x.T, dz, out=self.dW)
        np.sum(dz, axis=0, out=self.db)
        return dz @ self.W.T if need_input_grad else None

    @property
    def shape(self) -> tuple[int, int]:
        return self.W.shape

    def __repr__(self) -> str:
        n_in, n_out = self.W.shape
        return f"Dense({n_in}→{n_out}, {self.activation.name})"
