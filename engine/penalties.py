"""Parameter norm penalties, applied to weight matrices only (never biases).

Each penalty is its own loss term: ``loss = data_loss + penalty``.

* ``L2(lam)``: ``½·lam·Σ w²``, gradient ``lam·w``.
* ``L1(lam)``: ``lam·Σ |w|``, subgradient ``lam·sign(w)`` (0 at exactly 0).
* ``ElasticNet(l1, l2)``: the sum of the two.
"""
from __future__ import annotations

import numpy as np


class Penalty:
    """Base class: ``loss(weights)`` and ``add_grad(w, grad)`` over weight matrices."""

    name = "none"

    def loss(self, weights: list[np.ndarray]) -> float:
        """The penalty value summed over all weight matrices."""
        return 0.0

    def add_grad(self, w: np.ndarray, grad: np.ndarray, scale: float = 1.0, scratch: np.ndarray | None = None) -> float:
        """Add ``scale`` × the (sub)gradient with respect to ``w`` into ``grad``; return the penalty of ``w``.

        Doing both in one call lets L1 reuse ``sign(w)`` for ``‖w‖₁ = w·sign(w)``;
        ``scratch`` (same shape as ``w``) avoids allocating per batch.
        """
        return 0.0

    @property
    def active(self) -> bool:
        """Whether this penalty changes anything (False for none or a zero λ)."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class NoPenalty(Penalty):
    """No penalty: the plain data loss."""


class L2(Penalty):
    """Weight decay: ``½·lam·‖W‖²``."""

    name = "l2"

    def __init__(self, lam: float):
        self.lam = float(lam)

    def loss(self, weights):
        return 0.5 * self.lam * sum(float(np.dot(w.ravel(), w.ravel())) for w in weights)

    def add_grad(self, w, grad, scale=1.0, scratch=None):
        flat = w.ravel()
        value = 0.5 * self.lam * float(np.dot(flat, flat))
        grad += np.multiply(w, scale * self.lam, out=scratch)
        return value

    @property
    def active(self):
        return self.lam != 0.0

    def __repr__(self):
        return f"L2(lam={self.lam:g})"


class L1(Penalty):
    """Lasso: ``lam·‖W‖₁``; drives weights to (nearly) exactly zero."""

    name = "l1"

    def __init__(self, lam: float):
        self.lam = float(lam)

    def loss(self, weights):
        return self.lam * sum(float(np.abs(w).sum()) for w in weights)

    def add_grad(self, w, grad, scale=1.0, scratch=None):
        sign = np.sign(w, out=scratch)
        value = self.lam * float(np.dot(w.ravel(), sign.ravel()))
        sign *= scale * self.lam
        grad += sign
        return value

    @property
    def active(self):
        return self.lam != 0.0

    def __repr__(self):
        return f"L1(lam={self.lam:g})"


class ElasticNet(Penalty):
    """L1 and L2 together: ``l1·‖W‖₁ + ½·l2·‖W‖²``."""

    name = "elastic"

    def __init__(self, l1: float, l2: float):
        self.parts = (L1(l1), L2(l2))

    def loss(self, weights):
        return sum(part.loss(weights) for part in self.parts)

    def add_grad(self, w, grad, scale=1.0, scratch=None):
        return sum(part.add_grad(w, grad, scale, scratch) for part in self.parts)

    @property
    def active(self):
        return any(part.active for part in self.parts)

    def __repr__(self):
        return f"ElasticNet(l1={self.parts[0].lam:g}, l2={self.parts[1].lam:g})"


PENALTY_NAMES = ("none", "l1", "l2", "elastic")


def make_penalty(name: str, lam: float = 0.0, lam_l2: float = 0.0) -> Penalty:
    """Build a penalty by name; ``lam`` is the strength (the L1 part for elastic net)."""
    if name == "none":
        return NoPenalty()
    if name == "l1":
        return L1(lam)
    if name == "l2":
        return L2(lam)
    if name == "elastic":
        return ElasticNet(lam, lam_l2)
    raise ValueError(f"unknown penalty {name!r}; choose one of {', '.join(PENALTY_NAMES)}")
