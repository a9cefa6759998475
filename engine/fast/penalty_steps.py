"""Each penalty's share of the fused step, one function per penalty kind.

The readable path adds ``penalty.grad(W)`` to ``dW`` and lets ``SGD`` move ``W``.
The fused steps get the same result in fewer passes over ``W``:

* ``STEP_SHARES`` (plain SGD): ``share(penalty, W, lr) -> (penalty of W, decay)`` moves
  ``W`` by the part of its step that is not a plain factor (L1's ``−lr·λ₁·sign W``, in
  one pass that also measures ‖W‖₁) and returns the factor ``decay`` (L2's ``1 − lr·λ``).
  ``W ← decay·W − lr·xᵀ·dz`` then completes ``W ← W − lr·(∇data + ∇penalty)`` in one
  BLAS call (``steppers.FusedSGD``).
* ``GRADIENT_ADDERS`` (momentum, which needs the gradient itself):
  ``add(penalty, W, grad, scale, scratch) -> penalty of W`` adds ``scale·∇penalty``
  to ``grad``; L1's sign and ‖W‖₁ come from one pass.

Every value is measured on ``W`` before anything moves it. ``scratch`` is work space
shaped like ``W``, so no batch allocates one.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..penalties import ElasticNet, L1, L2, Penalty
from .kernels import add_l1_subgradient, penalty_step

StepShare = Callable[[Penalty, np.ndarray, float], tuple[float, float]]
GradientAdder = Callable[[Penalty, np.ndarray, np.ndarray, float, np.ndarray], float]


def _no_step(penalty: Penalty, w: np.ndarray, lr: float) -> tuple[float, float]:
    return 0.0, 1.0


def _l2_step(penalty: L2, w: np.ndarray, lr: float) -> tuple[float, float]:
    return penalty.loss(w), 1.0 - lr * penalty.lam


def _l1_step(penalty: L1, w: np.ndarray, lr: float) -> tuple[float, float]:
    sum_abs, _ = penalty_step(w, 1.0, lr * penalty.lam)
    return penalty.lam * sum_abs, 1.0


def _elastic_step(penalty: ElasticNet, w: np.ndarray, lr: float) -> tuple[float, float]:
    l1, l2 = penalty.l1.lam, penalty.l2.lam
    # The decay applies to w alone, inside the same pass, so it does not shrink the L1 step as well.
    sum_abs, sum_sq = penalty_step(w, 1.0 - lr * l2, lr * l1)
    return l1 * sum_abs + 0.5 * l2 * sum_sq, 1.0


STEP_SHARES: dict[str, StepShare] = {"none": _no_step, "l1": _l1_step, "l2": _l2_step, "elastic": _elastic_step}


def _add_nothing(penalty: Penalty, w: np.ndarray, grad: np.ndarray, scale: float, scratch: np.ndarray) -> float:
    return 0.0


def _add_l2(penalty: L2, w: np.ndarray, grad: np.ndarray, scale: float, scratch: np.ndarray) -> float:
    value = penalty.loss(w)
    grad += np.multiply(w, scale * penalty.lam, out=scratch)
    return value


def _add_l1(penalty: L1, w: np.ndarray, grad: np.ndarray, scale: float, scratch: np.ndarray) -> float:
    return penalty.lam * add_l1_subgradient(grad, w, scale * penalty.lam)


def _add_elastic(penalty: ElasticNet, w: np.ndarray, grad: np.ndarray, scale: float, scratch: np.ndarray) -> float:
    return _add_l1(penalty.l1, w, grad, scale, scratch) + _add_l2(penalty.l2, w, grad, scale, scratch)


GRADIENT_ADDERS: dict[str, GradientAdder] = {"none": _add_nothing, "l1": _add_l1, "l2": _add_l2,
                                             "elastic": _add_elastic}
