"""Parameter norm penalties, applied to weight matrices only (never biases).

Each penalty is its own loss term: ``loss = data_loss + penalty``, where the
penalty is summed over the network's weight matrices.

* ``L2(lam)``: ``½·lam·‖W‖²``, gradient ``lam·W``.
* ``L1(lam)``: ``lam·‖W‖₁``, subgradient ``lam·sign(W)``, the sign taken from the sign bit
  (``±lam`` at ``±0``: any value in ``[-lam, lam]`` is a subgradient there, and a weight
  at exactly 0 is then pushed off it like any other, the same way every step).
* ``ElasticNet(l1, l2)``: the sum of the two.

Training uses these through ``Network.loss_and_grads``; the fused training step
(``engine.fast.penalty_steps``) applies the same terms in fewer passes over ``W``.
"""
from __future__ import annotations

import numpy as np


class Penalty:
    """Base class: ``loss(W)`` and ``grad(W)`` of one weight matrix ``W`` (n_in, n_out)."""

    name = "none"

    def loss(self, w: np.ndarray) -> float:
        """The penalty of ``w``."""
        return 0.0

    def grad(self, w: np.ndarray) -> np.ndarray:
        """The (sub)gradient of ``loss`` with respect to ``w``: an array shaped and typed like ``w``."""
        return np.zeros_like(w)

    @property
    def active(self) -> bool:
        """Whether this penalty changes anything (False for none or a zero λ)."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class NoPenalty(Penalty):
    """No penalty: the plain data loss."""


class L2(Penalty):
    """Weight decay: ``½·lam·‖W‖²``, gradient ``lam·W``."""

    name = "l2"

    def __init__(self, lam: float):
        self.lam = float(lam)

    def loss(self, w):
        flat = w.ravel()
        return 0.5 * self.lam * float(np.dot(flat, flat))  # ‖W‖² as one dot product: no squared copy of W

    def grad(self, w):
        return self.lam * w

    @property
    def active(self):
        return self.lam != 0.0

    def __repr__(self):
        return f"L2(lam={self.lam:g})"


class L1(Penalty):
    """Lasso: ``lam·‖W‖₁``, subgradient ``lam·sign(W)``; drives weights to (nearly) exactly zero."""

    name = "l1"

    def __init__(self, lam: float):
        self.lam = float(lam)

    def loss(self, w):
        return self.lam * float(np.abs(w).sum())

    def grad(self, w):
        # copysign reads the sign bit: +lam at +0, -lam at -0 (see the module docstring).
        return np.copysign(self.lam, w)

    @property
    def active(self):
        return self.lam != 0.0

    def __repr__(self):
        return f"L1(lam={self.lam:g})"


class ElasticNet(Penalty):
    """L1 and L2 together: ``l1·‖W‖₁ + ½·l2·‖W‖²``; ``self.l1`` and ``self.l2`` are the two parts."""

    name = "elastic"

    def __init__(self, l1: float, l2: float):
        self.l1, self.l2 = L1(l1), L2(l2)

    def loss(self, w):
        return self.l1.loss(w) + self.l2.loss(w)

    def grad(self, w):
        return self.l1.grad(w) + self.l2.grad(w)

    @property
    def active(self):
        return self.l1.active or self.l2.active

    def __repr__(self):
        return f"ElasticNet(l1={self.l1.lam:g}, l2={self.l2.lam:g})"


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
