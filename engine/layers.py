"""A fully connected layer: ``a = activation(x @ W + b)``."""
from __future__ import annotations

import numpy as np

from .activations import Activation
from .blas import gemm_tn
from .kernels import subtract_column_sums
from .penalties import Penalty


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

    def backward_step(self, da: np.ndarray, penalty: Penalty, lr: float,
                      need_input_grad: bool = True) -> tuple[np.ndarray | None, float]:
        """Backpropagate and take the plain SGD step at once; return ``(dL/dx or None, penalty of W)``.

        ``da`` must already carry the factor ``lr`` (``softmax_cross_entropy(scale=lr)``).
        The result equals ``backward`` + ``penalty.add_grad`` + ``SGD(lr).step`` up to
        rounding, but the step ``W ← decay·W − xᵀ·dz`` is one BLAS call instead of a
        product, a penalty pass and an update pass over ``W``. ``dW``/``db`` are not set.
        The input gradient uses ``W`` from before the step.
        """
        dz = self.activation.backward(self._a, da)
        dx = dz @ self.W.T if need_input_grad else None
        value, decay = penalty.prepare_step(self.W, lr, self.scratch)
        gemm_tn(-1.0, self._x, dz, decay, self.W)
        subtract_column_sums(self.b, dz)
        return dx, value

    @property
    def shape(self) -> tuple[int, int]:
        return self.W.shape

    def __repr__(self) -> str:
        n_in, n_out = self.W.shape
        return f"Dense({n_in}→{n_out}, {self.activation.name})"
