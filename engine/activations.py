"""Element-wise activation functions with their derivatives.

Each activation maps pre-activations ``z`` to ``a`` and, for backprop, turns
``dL/da`` into ``dL/dz`` using the cached output ``a`` (cheaper than recomputing
from ``z`` for every activation here).
"""
from __future__ import annotations

import numpy as np

from .kernels import sigmoid_backward, sigmoid_from_tanh


class Activation:
    """Base class: ``forward(z) -> a`` and ``backward(a, da) -> dz``."""

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
    """Logistic sigmoid, computed as ``(1 + tanh(z/2)) / 2`` so it never overflows."""

    name = "sigmoid"

    def forward(self, z):
        z *= 0.5
        np.tanh(z, out=z)  # NumPy's vectorised tanh: far quicker than a compiled scalar loop
        sigmoid_from_tanh(z)
        return z

    def backward(self, a, da):
        sigmoid_backward(a, da)
        return da


class Tanh(Activation):
    """Hyperbolic tangent."""

    name = "tanh"

    def forward(self, z):
        return np.tanh(z, out=z)

    def backward(self, a, da):
        da *= 1.0 - a * a
        return da


class ReLU(Activation):
    """Rectified linear unit; the derivative at exactly 0 is taken as 0."""

    name = "relu"

    def forward(self, z):
        return np.maximum(z, 0.0, out=z)

    def backward(self, a, da):
        da *= a > 0
        return da


class Identity(Activation):
    """The affine (no-op) activation used by the output layer."""

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
