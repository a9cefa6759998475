"""The network of the study: Dense(784→hidden, act) → Dense(hidden→10) → softmax cross-entropy.

``loss_and_grads`` is one training batch in the textbook's order: forward, data loss,
backward, and the penalty as its own term. An optimizer (``SGD.step``) then moves
``params`` against ``grads``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .activations import Identity, get_activation
from .initializers import INITIALIZERS
from .layers import Dense
from .losses import softmax_cross_entropy
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
        """Return the logits (n, classes) for inputs (n, features); ``train`` keeps what backward needs."""
        out = x
        for layer in self.layers:
            out = layer.forward(out, train)
        return out

    def backward(self, grad_logits: np.ndarray) -> None:
        """Backpropagate ``dL/dlogits`` (n, classes) into every layer's ``dW``/``db``."""
        grad = grad_logits
        for i in range(len(self.layers) - 1, -1, -1):
            grad = self.layers[i].backward(grad, need_input_grad=i > 0)

    def loss_and_grads(self, x: np.ndarray, labels: np.ndarray, penalty: Penalty) -> tuple[float, float, np.ndarray]:
        """Forward, loss and backward for one batch: the gradients an optimizer needs.

        Parameters
        ----------
        x : (n, features) inputs.
        labels : (n,) integer classes.
        penalty : the weight penalty; biases are never penalised.

        Returns
        -------
        data_loss : float, the mean cross-entropy of the batch.
        penalty_value : float, the penalty summed over the weight matrices.
        logits : (n, classes), the network's output.

        The training loss is ``data_loss + penalty_value``; its gradients are left in each
        layer's ``dW``/``db`` (``self.grads``). Everything is measured on the weights as they
        are, before any update.
        """
        logits = self.forward(x)
        data_loss, grad_logits = softmax_cross_entropy(logits, labels)
        self.backward(grad_logits)
        penalty_value = 0.0
        for layer in self.layers:
            penalty_value += penalty.loss(layer.W)
            layer.dW += penalty.grad(layer.W)
        return data_loss, penalty_value, logits

    @property
    def weights(self) -> list[np.ndarray]:
        """The weight matrices (the only parameters a penalty touches)."""
        return [layer.W for layer in self.layers]

    @property
    def params(self) -> list[np.ndarray]:
        """Every parameter, layer by layer: ``[W1, b1, W2, b2, ...]``."""
        return [p for layer in self.layers for p in (layer.W, layer.b)]

    @property
    def grads(self) -> list[np.ndarray]:
        """The gradients of the last ``loss_and_grads``, in the order of ``params``."""
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
