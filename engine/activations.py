"""Element-wise activation functions with their derivatives.

Each activation maps pre-activations ``z`` to ``a`` and, for backprop, turns
``dL/da`` into ``dL/dz`` from the cached output ``a`` (for every activation here
the derivative is a simple function of ``a``, so ``z`` need not be kept).
Both methods work in place on arrays the layer owns, so a batch costs no new arrays.
"""
from __future__ import annotations

import numpy as np


class Activation:
    """Base class: ``forward(z) -> a`` and ``backward(a, da) -> dz``, all arrays of one shape (n, units)."""

    name = "base"

    def forward(self, z: np.ndarray) -> np.ndarray:
        """Return the activation of ``z``; may overwrite ``z`` in place."""
        raise NotImplementedError

    def backward(self, a: np.ndarray, da: np.ndarray) -> np.ndarray:
        """Return ``dL/dz`` given the output ``a`` and ``dL/da``; may overwrite ``da``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Sigmoid(Activation):
    """Logistic sigmoid ``σ(z) = 1 / (1 + e⁻ᶻ)``, derivative ``σ(z)·(1 − σ(z))``.

    Computed as ``(1 + tanh(z/2)) / 2``, the same function, which never overflows
    (``e⁻ᶻ`` does for z below about −88 in float32).
    """

    name = "sigmoid"

    def forward(self, z):
        z *= 0.5
        np.tanh(z, out=z)
        z += 1
        z *= 0.5
        return z

    def backward(self, a, da):
        da *= a
        da *= 1 - a
        return da


class Tanh(Activation):
    """Hyperbolic tangent, derivative ``1 − tanh²``."""

    name = "tanh"

    def forward(self, z):
        return np.tanh(z, out=z)

    def backward(self, a, da):
        da *= 1.0 - a * a
        return da


class ReLU(Activation):
    """Rectified linear unit ``max(z, 0)``; the derivative at exactly 0 is taken as 0."""

    name = "relu"

    def forward(self, z):
        return np.maximum(z, 0.0, out=z)

    def backward(self, a, da):
        da *= a > 0
        return da


class Identity(Activation):
    """The affine (no-op) activation of the output layer: the softmax lives in the loss."""

    name = "identity"

    def forward(self, z):
        return z

    def backward(self, a, da):
        return da


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Sigmoid, Tanh, ReLU, Identity)
}


def get_activation(name: str) -> Activation:
    """Return a new activation by name (one of ``ACTIVATIONS``)."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None
