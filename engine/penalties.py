"""Parameter norm penalties, applied to weight matrices only (never biases).

Each penalty is its own loss term: ``loss = data_loss + penalty``.

* ``L2(lam)``: ``½·lam·Σ w²``, gradient ``lam·w``.
* ``L1(lam)``: ``lam·Σ |w|``, subgradient ``lam·sign(w)``, the sign taken from the sign bit
  (``±lam`` at ``±0``: any value in ``[-lam, lam]`` is a subgradient there). The sign and
  ``‖W‖₁`` come from one fused pass over ``W`` (``kernels``).
* ``ElasticNet(l1, l2)``: the sum of the two.

Two ways to use them: ``add_grad`` adds the penalty's gradient to a gradient (any
optimizer), and ``prepare_step`` applies its share of a plain SGD step to the weights
directly, which saves passes over the weight matrix (see ``Dense.backward_step``;
for L1 it is one fused pass, ``kernels.penalty_step``).
"""
from __future__ import annotations

import numpy as np

from .kernels import add_l1_subgradient, penalty_step


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

    def prepare_step(self, w: np.ndarray, lr: float, scratch: np.ndarray) -> tuple[float, float]:
        """For plain SGD: return ``(penalty of w, decay)`` and move ``w`` by the rest of its step.

        Afterwards ``w ← decay·w − lr·∇data`` completes ``w ← w − lr·(∇data + ∇penalty)``
        (``Dense.backward_step`` does it in one BLAS call). The value is measured on ``w``
        before anything moves it; ``scratch`` is work space shaped like ``w``.
        """
        return 0.0, 1.0

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
        return 0.5 * self.lam * sum(_sum_of_squares(w) for w in weights)

    def add_grad(self, w, grad, scale=1.0, scratch=None):
        value = 0.5 * self.lam * _sum_of_squares(w)
        grad += np.multiply(w, scale * self.lam, out=scratch)
        return value

    def prepare_step(self, w, lr, scratch):
        return 0.5 * self.lam * _sum_of_squares(w), 1.0 - lr * self.lam

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
        return self.lam * add_l1_subgradient(grad, w, scale * self.lam)

    def prepare_step(self, w, lr, scratch):
        sum_abs, _ = penalty_step(w, 1.0, lr * self.lam)
        return self.lam * sum_abs, 1.0

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

    def prepare_step(self, w, lr, scratch):
        l1, l2 = self.parts
        # The decay applies to w alone, so it does not shrink the L1 step as well.
        sum_abs, sum_sq = penalty_step(w, 1.0 - lr * l2.lam, lr * l1.lam)
        return l1.lam * sum_abs + 0.5 * l2.lam * sum_sq, 1.0

    @property
    def active(self):
        return any(part.active for part in self.parts)

    def __repr__(self):
        return f"ElasticNet(l1={self.parts[0].lam:g}, l2={self.parts[1].lam:g})"


def _sum_of_squares(w: np.ndarray) -> float:
    flat = w.ravel()
    return float(np.dot(flat, flat))


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
