"""The two-layer network of the study: Dense(784→hidden, act) → Dense(hidden→10) → softmax."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .activations import Identity, get_activation
from .initializers import INITIALIZERS
from .layers import Dense
from .losses import softmax_cross_entropy, softmax_cross_entropy_argmax
from .penalties import Penalty


class Network:
    """A stack of Dense layers ending in logits; the softmax lives in the loss."""

    def __init__(self, layers: list[Dense]):
        self.layers = layers

    @classmethod
    def build(
        cls,
        sizes: tuple[int, ...],
        activation: str,
        init: str,
        rng: np.random.Generator,
        dtype: np.dtype | str = np.float32,
    ) -> "Network":
        """Build layers of the given sizes (e.g. (784, 200, 10)); the last layer is affine."""
        init_fn = INITIALIZERS[init]
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            last = i == len(sizes) - 2
            W = init_fn(rng, n_in, n_out).astype(dtype)
            b = np.zeros(n_out, dtype=dtype)
            layers.append(Dense(W, b, Identity() if last else get_activation(activation)))
        return cls(layers)

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        """Return the logits (n, classes) for inputs (n, features)."""
        out = x
        for layer in self.layers:
            out = layer.forward(out, train)
        return out

    def backward(self, grad_logits: np.ndarray) -> None:
        """Backpropagate ``dL/dlogits`` into every layer's ``dW``/``db``."""
        grad = grad_logits
        for i in range(len(self.layers) - 1, -1, -1):
            grad = self.layers[i].backward(grad, need_input_grad=i > 0)

    def loss_and_grads(
        self, x: np.ndarray, labels: np.ndarray, penalty: Penalty, scale: float = 1.0
    ) -> tuple[float, float, np.ndarray]:
        """Forward, loss and backward for one batch.

        Returns ``(data_loss, penalty_value, logits)`` and leaves ``scale`` × the
        gradients of ``data_loss + penalty`` in each layer's ``dW``/``db``. Passing
        the learning rate as ``scale`` turns the gradients into SGD steps for the
        price of scaling the small (n, 10) logits gradient, instead of a pass over
        every weight. The penalty is measured on the weights before the update.
        """
        logits = self.forward(x)
        data_loss, grad = softmax_cross_entropy(logits, labels, scale)
        self.backward(grad)
        penalty_value = 0.0
        if penalty.active:
            for layer in self.layers:
                penalty_value += penalty.add_grad(layer.W, layer.dW, scale, layer.scratch)
        return data_loss, penalty_value, logits

    def forward_loss(self, x: np.ndarray, labels: np.ndarray, scale: float = 1.0) -> tuple[float, np.ndarray, np.ndarray]:
        """Forward and data loss for one batch: ``(data_loss, scale·dloss/dlogits, predicted classes)``."""
        return softmax_cross_entropy_argmax(self.forward(x), labels, scale)

    def backward_step(self, grad_logits: np.ndarray, penalty: Penalty, lr: float) -> float:
        """Backpropagate ``lr·dL/dlogits`` and take the plain SGD step in every layer.

        Returns the penalty measured on the weights before the step. Together with
        ``forward_loss(scale=lr)`` this is ``loss_and_grads`` + ``SGD(lr).step`` in
        fewer passes over the weights (``Dense.backward_step``).
        """
        grad, penalty_value = grad_logits, 0.0
        for i in range(len(self.layers) - 1, -1, -1):
            grad, value = self.layers[i].backward_step(grad, penalty, lr, need_input_grad=i > 0)
            penalty_value += value
        return penalty_value

    @property
    def weights(self) -> list[np.ndarray]:
        """The weight matrices (the only parameters a penalty touches)."""
        return [layer.W for layer in self.layers]

    @property
    def params(self) -> list[np.ndarray]:
        return [p for layer in self.layers for p in (layer.W, layer.b)]

    @property
    def grads(self) -> list[np.ndarray]:
        return [g for layer in self.layers for g in (layer.dW, layer.db)]

    def predict_logits(self, x: np.ndarray, chunk: int = 2000,
                       prepare: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
        """Logits for many inputs, in order, chunk by chunk (nothing retained).

        ``prepare`` maps each chunk of ``x`` to the network's inputs (e.g. raw pixels to
        scaled floats), so a whole prepared copy of ``x`` never exists.
        """
        prepare = prepare or (lambda part: part)
        parts = [self.forward(prepare(x[i : i + chunk]), train=False) for i in range(0, len(x), chunk)]
        return np.concatenate(parts) if parts else np.empty((0, self.layers[-1].W.shape[1]))

    def __repr__(self) -> str:
        return f"Network({', '.join(map(repr, self.layers))})"
