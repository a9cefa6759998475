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
        """Compute the layer's output.

        Parameters
        ----------
        x : (n, n_in) batch of inputs.
        train : keep ``x`` and the output for ``backward`` (evaluation passes False,
            so nothing outlives the call).

        Returns
        -------
        a : (n, n_out) activations ``activation(x @ W + b)``.
        """
        z = x @ self.W
        z += self.b  # in place: one (n, n_out) array per layer, not two
        a = self.activation.forward(z)
        if train:
            self._x, self._a = x, a
        return a

    def backward(self, da: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Backpropagate through the last ``forward``: store ``dW``, ``db``; return ``dL/dx``.

        Parameters
        ----------
        da : (n, n_out) ``dL/da``, the gradient of the loss with respect to the output
            (may be overwritten).
        need_input_grad : compute ``dL/dx``. The first layer's is never used, and
            skipping it saves one of the three large matrix products of a batch.

        Returns
        -------
        dx : (n, n_in) ``dL/dx = dz @ Wᵀ``, or None. With ``dz = dL/dz`` from the
            activation's backward, ``dW = xᵀ @ dz`` (n_in, n_out) and ``db = Σₙ dz`` (n_out,).
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
