"""Softmax fused with cross-entropy.

Fusing the two gives the simple, exact gradient ``(p - y) / n`` and avoids the
seed's generic softmax Jacobian. The loss is the MEAN over the batch, so the
gradient is divided by the batch size ``n``.
"""
from __future__ import annotations

import numpy as np

from .kernels import softmax_cross_entropy_step


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stabilised by subtracting each row's maximum."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray, scale: float = 1.0) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of ``softmax(logits)`` against integer ``labels``.

    Parameters
    ----------
    logits : (n, k) array of unnormalised scores (left unchanged).
    labels : (n,) integer class indices in ``[0, k)``.
    scale : multiplies the returned gradient (e.g. the learning rate), for free.

    Returns
    -------
    loss : float, mean over the n rows.
    grad : (n, k) array, ``scale · dloss/dlogits = scale · (softmax(logits) - onehot(labels)) / n``.
    """
    loss, grad, _ = softmax_cross_entropy_argmax(logits.copy(), labels, scale)
    return loss, grad


def softmax_cross_entropy_argmax(logits: np.ndarray, labels: np.ndarray,
                                 scale: float = 1.0) -> tuple[float, np.ndarray, np.ndarray]:
    """``softmax_cross_entropy`` plus each row's predicted class, turning ``logits`` into the gradient.

    The training step's form: one fused call (``kernels.softmax_cross_entropy_step``)
    where NumPy needs a dozen on a batch of a few classes, and no new array.
    Returns ``(loss, grad, predicted)`` with ``grad`` being ``logits``, overwritten.
    """
    predicted = np.empty(len(logits), np.intp)
    loss = softmax_cross_entropy_step(logits, labels, scale, predicted)
    return loss, logits, predicted


def cross_entropy_per_example(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Cross-entropy of each row (no reduction), numerically stable."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    return log_norm - shifted[np.arange(logits.shape[0]), labels]
