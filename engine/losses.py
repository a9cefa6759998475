"""Softmax fused with cross-entropy, the network's data loss.

Taking the two together gives the simple, exact gradient ``(p − y) / n`` (``p`` the
softmax, ``y`` the one-hot labels) instead of a softmax Jacobian. The loss is the
MEAN over the batch, so the gradient is divided by the batch size ``n``.
"""
from __future__ import annotations

import numpy as np

# A mean cross-entropy above this many nats means the network gives the true class
# a probability below e^-100 on average: no learning run gets there, a blown-up one does.
DIVERGENCE_LOSS = 100.0


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (n, k) logits, stabilised by subtracting each row's maximum."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of ``softmax(logits)`` against integer ``labels``, and its gradient.

    Parameters
    ----------
    logits : (n, k) array of unnormalised scores (left unchanged).
    labels : (n,) integer class indices in ``[0, k)``.

    Returns
    -------
    loss : float, ``mean(−log p[i, labels[i]])`` over the n rows.
    grad : (n, k) array, ``dloss/dlogits = (softmax(logits) − onehot(labels)) / n``.
    """
    n = len(labels)
    loss = float(np.mean(cross_entropy_per_example(logits, labels)))
    grad = softmax(logits)
    grad[np.arange(n), labels] -= 1
    grad /= n
    return loss, grad


def cross_entropy_per_example(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Cross-entropy of each row, (n,) from (n, k) logits (no reduction), numerically stable."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    return log_norm - shifted[np.arange(logits.shape[0]), labels]
