"""A fully connected layer: ``a = activation(x @ W + b)``."""
from __future__ import annotations

import numpy as np

from .activations import Activation


class Dense:
    """Dense layer with weights ``W`` (n_in, n_out), bias ``b`` (n_out,) and their gradients.

    ``forward`` caches its input and output for the ``backward`` that follows;
    ``backward`` leaves ``dW`` and ``db`` (same shapes as ``W`` and ``b``) for an optimizer.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, activation: Activation):
        self.W = W
        self.b = b
        self.activation = activation
        self.dW = np.zeros_like(W)
        self.db = np.zeros_like(b)
        self._x: np.ndarray | None = None
        self._a: np.ndarray | None = None

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        """Return the activations (n, n_out) of the batch ``x`` (n, n_in).

        With ``train`` the input and output are kept for ``backward`` (evaluation
        passes ``False`` so nothing outlives the call).
        """
        z = x @ self.W
        z += self.b  # in place: one (n, n_out) array per layer, not two
        a = self.activation.forward(z)
        if train:
            self._x, self._a = x, a
        return a

    def backward(self, da: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Store ``dW = xᵀ·dz`` and ``db = Σₙ dz`` from ``da = dL/da`` (n, n_out); return ``dL/dx = dz·Wᵀ``.

        ``dz = dL/dz`` is the activation's backward of ``da`` (which may be overwritten).
        The first layer's input gradient is never used, so ``need_input_grad=False``
        skips it (one of the three large matrix products of a batch) and returns None.
        """
        dz = self.activation.backward(self._a, da)
        self.dW = self._x.T @ dz
        self.db = dz.sum(axis=0)
        return dz @ self.W.T if need_input_grad else None

    @property
    def shape(self) -> tuple[int, int]:
        return self.W.shape

    def __repr__(self) -> str:
        n_in, n_out = self.W.shape
        return f"Dense({n_in}→{n_out}, {self.activation.name})"
